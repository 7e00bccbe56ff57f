using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using IdentityHost.Audit;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityHost.Commands;

/// <summary>
/// <c>-- audit [--user NAME] [--client ID] [--since 24h|7d|30m|ISO-8601 time] [--json]</c>: the security events in the
/// <c>AuditEvents</c> table, oldest first; plain aligned columns, or with <c>--json</c> one JSON object a line.
/// </summary>
public static class AuditCommands
{
    public const string Usage = "Usage: IdentityHost audit [--user <name|id>] [--client <client_id>] [--since 24h|7d|30m|<ISO time>] [--json]";

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        string? user = null, client = null, since = null;
        var json = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json": json = true; break;
                case "--user" when i + 1 < args.Length: user = args[++i]; break;
                case "--client" when i + 1 < args.Length: client = args[++i]; break;
                case "--since" when i + 1 < args.Length: since = args[++i]; break;
                default:
                    await error.WriteLineAsync($"Unknown or incomplete option '{args[i]}'. {Usage}");
                    return 2;
            }
        }

        var time = services.GetRequiredService<TimeProvider>();
        DateTime? from = null;
        if (since is not null)
        {
            if (ParseSince(since, time.GetUtcNow()) is not { } parsed)
            {
                await error.WriteLineAsync($"--since '{since}' is neither a duration like 30m, 24h or 7d nor an ISO 8601 time.");
                return 2;
            }

            from = parsed.UtcDateTime;
        }

        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        string? subject = null;
        if (user is not null)
        {
            if ((await users.FindByNameAsync(user) ?? await users.FindByIdAsync(user)) is not { } found)
            {
                await error.WriteLineAsync($"No user named or with id '{user}'.");
                return 2;
            }

            subject = found.Id;
        }

        // Events still queued in this process are written first.
        await services.GetRequiredService<AuditTrail>().FlushAsync();
        var db = services.GetRequiredService<ApplicationDbContext>();
        var query = db.AuditEvents.AsNoTracking();
        query = subject is null ? query : query.Where(row => row.Subject == subject);
        query = client is null ? query : query.Where(row => row.ClientId == client);
        query = from is null ? query : query.Where(row => row.Time >= from);
        var rows = await query.OrderBy(row => row.Time).ThenBy(row => row.Id).ToListAsync();

        var names = new UserNames(users);
        var lines = new List<AuditLine>(rows.Count);
        foreach (var row in rows)
        {
            lines.Add(new AuditLine(row.Time.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture), row.Type, row.EventId,
                row.ClientId, row.Subject, await names.FindAsync(row.Subject), row.FamilyId, row.SessionId, row.Ip, row.UserAgent, row.Detail));
        }

        if (json)
        {
            foreach (var line in lines)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(line));
            }
        }
        else
        {
            await Table.WriteAsync(output, ["TIME", "TYPE", "CLIENT", "USER", "FAMILY", "IP", "USER AGENT", "DETAIL"],
                lines.Select(line => new[] { line.Time, line.Type, line.ClientId, line.User ?? line.Subject, line.FamilyId, line.Ip, line.UserAgent, line.Detail }));
        }

        return 0;
    }

    /// <summary><c>30m</c>, <c>24h</c>, <c>7d</c> before <paramref name="now"/>, or an ISO 8601 time (UTC unless it says otherwise).</summary>
    public static DateTimeOffset? ParseSince(string value, DateTimeOffset now)
    {
        if (value.Length >= 2 && int.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            switch (value[^1])
            {
                case 'm': return now.AddMinutes(-amount);
                case 'h': return now.AddHours(-amount);
                case 'd': return now.AddDays(-amount);
            }
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
    }

    private sealed record AuditLine(
        [property: JsonPropertyName("time")] string Time,
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("event_id")] int EventId,
        [property: JsonPropertyName("client_id")] string? ClientId,
        [property: JsonPropertyName("subject")] string? Subject,
        [property: JsonPropertyName("user")] string? User,
        [property: JsonPropertyName("family_id")] string? FamilyId,
        [property: JsonPropertyName("session_id")] string? SessionId,
        [property: JsonPropertyName("ip")] string? Ip,
        [property: JsonPropertyName("user_agent")] string? UserAgent,
        [property: JsonPropertyName("detail")] string? Detail);

    /// <summary>User names by id, each looked up once.</summary>
    private sealed class UserNames(UserManager<ApplicationUser> users)
    {
        private readonly Dictionary<string, string?> known = new(StringComparer.Ordinal);

        public async Task<string?> FindAsync(string? subject)
        {
            if (subject is null)
            {
                return null;
            }

            if (!known.TryGetValue(subject, out var name))
            {
                known[subject] = name = (await users.FindByIdAsync(subject))?.UserName;
            }

            return name;
        }
    }
}

/// <summary>Plain-text output of the commands: left-aligned columns, two spaces apart, a dash for an empty cell.</summary>
internal static class Table
{
    public static async Task WriteAsync(TextWriter output, string[] header, IEnumerable<string?[]> rows)
    {
        var cells = rows.Select(row => row.Select(cell => string.IsNullOrEmpty(cell) ? "-" : cell).ToArray()).ToList();
        var widths = header.Select((title, column) => cells.Select(row => row[column].Length).Append(title.Length).Max()).ToArray();
        foreach (var row in cells.Prepend(header))
        {
            await output.WriteLineAsync(string.Join("  ", row.Select((cell, column) => column == row.Length - 1 ? cell : cell.PadRight(widths[column]))).TrimEnd());
        }
    }
}
