using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHost.Audit;

/// <summary>
/// One row of the audit trail (table <c>AuditEvents</c>): a security event with its stable name and event id, who and
/// what it concerned, and where the request came from. Never a token, secret or password. Every text is cut to its
/// column's length before it is stored (<see cref="Cap"/>), so a client cannot make a row larger than these limits.
/// </summary>
public sealed class AuditEvent
{
    public const int TypeLength = 64;
    public const int IdLength = 100;
    public const int IpLength = 45;
    public const int UserAgentLength = 256;
    public const int DetailLength = 512;

    public long Id { get; set; }

    /// <summary>When it happened (UTC, from the server's <see cref="TimeProvider"/>).</summary>
    public DateTime Time { get; set; }

    /// <summary>The event's stable name, e.g. <c>refresh_token.replay_detected</c> (<see cref="AuditEventTypes"/>).</summary>
    public string Type { get; set; } = "";

    /// <summary>The event's stable id, the same as the log event's <c>EventId</c>.</summary>
    public int EventId { get; set; }

    public string? ClientId { get; set; }

    /// <summary>The user's id (the tokens' <c>sub</c>), never a user name.</summary>
    public string? Subject { get; set; }

    /// <summary>The token family: its OpenIddict authorization id.</summary>
    public string? FamilyId { get; set; }

    /// <summary>The browser session that created the family, when there is one.</summary>
    public string? SessionId { get; set; }

    /// <summary>The client's IP as the server sees it (after forwarded headers from trusted proxies).</summary>
    public string? Ip { get; set; }

    public string? UserAgent { get; set; }

    /// <summary>Short <c>key=value</c> details (a reason, a count, a key id); never a secret.</summary>
    public string? Detail { get; set; }

    /// <summary>Cuts <paramref name="value"/> to <paramref name="length"/> characters and drops control characters.</summary>
    public static string? Cap(string? value, int length)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var cut = value.Length > length ? value[..length] : value;
        return cut.Any(char.IsControl) ? new string(cut.Where(character => !char.IsControl(character)).ToArray()) : cut;
    }
}

/// <summary>The table's mapping: lengths as <see cref="AuditEvent"/>'s constants; indexes for the commands and retention.</summary>
public sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.ToTable("AuditEvents");
        builder.HasKey(row => row.Id);
        builder.Property(row => row.Type).HasMaxLength(AuditEvent.TypeLength).IsUnicode(false);
        builder.Property(row => row.ClientId).HasMaxLength(AuditEvent.IdLength);
        builder.Property(row => row.Subject).HasMaxLength(AuditEvent.IdLength);
        builder.Property(row => row.FamilyId).HasMaxLength(AuditEvent.IdLength);
        builder.Property(row => row.SessionId).HasMaxLength(AuditEvent.IdLength);
        builder.Property(row => row.Ip).HasMaxLength(AuditEvent.IpLength).IsUnicode(false);
        builder.Property(row => row.UserAgent).HasMaxLength(AuditEvent.UserAgentLength);
        builder.Property(row => row.Detail).HasMaxLength(AuditEvent.DetailLength);

        // `audit --user`, `audit --client`, retention (and `audit --since`), `sessions list` (a family's creation).
        builder.HasIndex(row => new { row.Subject, row.Time });
        builder.HasIndex(row => new { row.ClientId, row.Time });
        builder.HasIndex(row => row.Time);
        builder.HasIndex(row => row.FamilyId);
    }
}
