using Microsoft.Extensions.Options;

namespace IdentityHost.Configuration;

/// <summary>The audit trail (table <c>AuditEvents</c>), bound from <c>IdentityHost:Audit</c>.</summary>
public sealed class AuditOptions
{
    public const string SectionName = "IdentityHost:Audit";

    /// <summary>
    /// How long audit rows are kept; older ones are deleted by the cleanup service (<c>IdentityHost:Cleanup</c>).
    /// Defaults to 90 days.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);
}

public sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options) =>
        options.Retention <= TimeSpan.Zero
            ? ValidateOptionsResult.Fail($"{AuditOptions.SectionName}:Retention must be positive (e.g. 90.00:00:00 for 90 days).")
            : ValidateOptionsResult.Success;
}
