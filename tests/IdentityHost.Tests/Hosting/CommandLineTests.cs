using IdentityHost.Commands;
using Microsoft.Extensions.Configuration;

namespace IdentityHost.Tests.Hosting;

/// <summary>
/// How the command line is read (<see cref="CommandLine.Classify"/>): configuration in ASP.NET Core's forms runs the
/// server; the first other word is a command, known or not; help in its three spellings.
/// </summary>
public sealed class CommandLineTests
{
    public static TheoryData<string[]> ServerStarts => new()
    {
        Array.Empty<string>(),
        new[] { "--urls", "http://127.0.0.1:5001" },
        new[] { "--urls=http://127.0.0.1:5001" },
        new[] { "--environment", "Production", "--contentRoot", "/srv/identityhost" },
        new[] { "--IdentityHost:LogFormat", "Json" },
        new[] { "/IdentityHost:LogFormat", "Json" },
        new[] { "IdentityHost:LogFormat=Json", "Serilog:MinimumLevel:Default=Debug" },
        new[] { "--Key", "frobnicate" }, // a switch's value, whatever it looks like
        new[] { "--urls" }, // a dangling switch: ASP.NET Core ignores it
        new[] { "--environment=Development", "--contentRoot=/src", "--applicationName=IdentityHost" }, // WebApplicationFactory
    };

    [Theory]
    [MemberData(nameof(ServerStarts))]
    public void ConfigurationAlone_RunsTheServer(string[] args)
    {
        Assert.Equal(InvocationKind.Server, CommandLine.Classify(args).Kind);
        _ = new ConfigurationBuilder().AddCommandLine(args).Build(); // and ASP.NET Core reads it as configuration
    }

    [Theory]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("--urls", "http://127.0.0.1:5001", "--help")]
    [InlineData("--help", "--urls", "http://127.0.0.1:5001")]
    public void HelpInAnySpelling_IsTheListOfCommands(params string[] args)
    {
        var invocation = CommandLine.Classify(args);

        Assert.Equal(InvocationKind.Help, invocation.Kind);
        Assert.Empty(invocation.Command);
    }

    [Theory]
    [InlineData("users", "users", "--help")]
    [InlineData("keys", "keys", "rotate", "-h")]
    [InlineData("sessions", "help", "sessions")]
    [InlineData("audit", "--help", "audit")]
    public void HelpWithACommand_IsThatCommandsUsage(string word, params string[] args)
    {
        var invocation = CommandLine.Classify(args);

        Assert.Equal(InvocationKind.Help, invocation.Kind);
        Assert.Equal([word], invocation.Command);
    }

    [Theory]
    [InlineData(new[] { "keys", "list" }, new[] { "keys", "list" })]
    [InlineData(new[] { "--environment", "Production", "revoke", "--user", "alice" }, new[] { "revoke", "--user", "alice" })]
    [InlineData(new[] { "Database:Provider=Postgres", "audit", "--since", "24h", "--json" }, new[] { "audit", "--since", "24h", "--json" })]
    [InlineData(new[] { "users", "lock", "help" }, new[] { "users", "lock", "help" })] // a user named help
    [InlineData(new[] { "revoke" }, new[] { "revoke" })] // known: its arguments are checked when it runs
    public void KnownCommandWord_IsACommand_WithEverythingAfterIt(string[] args, string[] command)
    {
        var invocation = CommandLine.Classify(args);

        Assert.Equal(InvocationKind.Command, invocation.Kind);
        Assert.Equal(command, invocation.Command);
    }

    [Theory]
    [InlineData("Unknown command 'frobnicate'; 'help' lists the commands.", "frobnicate")]
    [InlineData("Unknown command 'frobnicate'; 'help' lists the commands.", "--urls", "http://127.0.0.1:5001", "frobnicate")]
    [InlineData("Unknown command 'Keys'; 'help' lists the commands.", "Keys", "list")]
    [InlineData("Unknown command 'frobnicate'; 'help' lists the commands.", "help", "frobnicate")]
    [InlineData("Unknown option '-v'; 'help' lists the commands and options.", "-v")]
    public void UnknownCommandOrOption_IsOneLineNamingIt(string problem, params string[] args)
    {
        var invocation = CommandLine.Classify(args);

        Assert.Equal(InvocationKind.Invalid, invocation.Kind);
        Assert.Equal(problem, invocation.Problem);
    }

    [Fact]
    public void Help_ListsEveryCommand_OneLineEach()
    {
        var help = CommandCatalog.Help().Split('\n').Select(line => line.Trim()).ToList();

        foreach (var usage in new[]
        {
            "revoke --user NAME", "users lock NAME", "users unlock NAME", "keys rotate", "keys list",
            "audit [--user NAME] [--client ID] [--since 24h|7d|ISO-TIME] [--json]", "sessions list --user NAME", "sessions revoke FAMILY-ID",
        })
        {
            var line = Assert.Single(help, line => line.StartsWith(usage + " ", StringComparison.Ordinal));
            Assert.True(line.Length > usage.Length + 10, $"'{usage}' has no description");
        }
    }

    [Fact]
    public void EveryListedCommand_IsACommand()
    {
        Assert.All(CommandCatalog.All.Where(command => command.Word != "help"), command =>
            Assert.Equal(InvocationKind.Command, CommandLine.Classify(command.Usage.Split(' ')).Kind));
        Assert.Equal("keys rotate | keys list", CommandCatalog.UsageOf("keys"));
    }
}
