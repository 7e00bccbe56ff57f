namespace IdentityHost.Commands;

/// <summary>
/// Every operator command, one line each: what <c>help</c> prints, and how an unknown command is told from a known one
/// before anything is built. A new command is one line here and its <c>case</c> in <see cref="AdminCommands"/>.
/// </summary>
internal static class CommandCatalog
{
    public static readonly IReadOnlyList<CommandHelp> All =
    [
        new("revoke --user NAME", "sign a user out everywhere (revoke all their token families)"),
        new("users lock NAME", "lock a user: no new sign-ins, every token family revoked"),
        new("users unlock NAME", "end a lock, or a lock-out after wrong passwords"),
        new("sessions list --user NAME", "a user's live sessions: client, times, IP, user agent"),
        new("sessions revoke FAMILY-ID", "sign one device out (revoke one token family)"),
        new("audit [--user NAME] [--client ID] [--since 24h|7d|ISO-TIME] [--json]", "security events (--json: one JSON object a line)"),
        new("keys rotate", "new signing and encryption keys (running servers switch)"),
        new("keys list", "the keys, and which one signs"),
        new("help [COMMAND]", "this list, or one command's usage (also --help, -h)"),
    ];

    /// <summary>The command words: <c>revoke</c>, <c>users</c>, <c>keys</c>, …</summary>
    public static bool IsKnown(string word) => All.Any(command => command.Word == word);

    /// <summary>The usage lines of one command word, e.g. <c>keys rotate | keys list</c>.</summary>
    public static string UsageOf(string word) => string.Join(" | ", All.Where(command => command.Word == word).Select(command => command.Usage));

    /// <summary>What <c>-- help</c> prints.</summary>
    public static string Help()
    {
        var width = All.Max(command => command.Usage.Length) + 2;
        var commands = string.Join(Environment.NewLine, All.Select(command => "  " + command.Usage.PadRight(width) + command.Summary));
        return $"""
            IdentityHost, an OAuth 2.0 / OpenID Connect token server.

            Usage: IdentityHost [CONFIGURATION...] [COMMAND]
                   dotnet run --project src/IdentityHost -- [CONFIGURATION...] [COMMAND]

            Without a command it runs the server. Configuration goes before the command and overrides appsettings.json:
              --urls http://127.0.0.1:5001  --environment Production  --contentRoot PATH  --Section:Key VALUE  Section:Key=VALUE
              (or environment variables: ASPNETCORE_URLS, ASPNETCORE_ENVIRONMENT, Section__Key)

            Commands:
            {commands}

            NAME is a user name or id. A command exits 0 when done, 1 when it could not run (database, keys folder), 2 when
            the command line is wrong or names nothing (an unknown command or user).
            """;
    }

    /// <summary>What <c>-- keys --help</c> prints: each of that word's commands and what it does.</summary>
    public static string Help(string word) =>
        string.Join(Environment.NewLine, All.Where(command => command.Word == word).Select(command => $"Usage: IdentityHost {command.Usage}{Environment.NewLine}  {command.Summary}"));
}

/// <summary>One command's usage (its first word selects it) and what it does.</summary>
internal sealed record CommandHelp(string Usage, string Summary)
{
    public string Word => Usage.Split(' ')[0];
}
