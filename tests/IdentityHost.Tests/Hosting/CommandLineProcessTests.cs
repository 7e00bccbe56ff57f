using System.Net;
using System.Net.Sockets;

namespace IdentityHost.Tests.Hosting;

/// <summary>
/// The command line as a person meets it, in the real process: <c>help</c> lists every command and exits; an unknown
/// command is one line and exit code 2, never a server start; <c>--urls</c> still starts the server; a failure a person
/// can fix (port in use, database unreachable, keys folder unusable) is one line saying what and where, exit code 1,
/// no stack trace, and never the connection string's password.
/// </summary>
public sealed class CommandLineProcessTests
{
    private const string Password = "Pa55-never-printed";

    [Theory]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Help_ListsEveryCommand_AndExitsWithoutStartingOrCreatingAnything(string help)
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);

        var run = await RunAsync(folder, [], help);

        Assert.Equal(0, run.ExitCode);
        foreach (var command in new[] { "revoke --user", "users lock", "users unlock", "keys rotate", "keys list", "audit", "sessions list", "sessions revoke", "help" })
        {
            Assert.Single(Lines(run.Output), line => line.StartsWith(command + " ", StringComparison.Ordinal));
        }

        Assert.Empty(run.Errors);
        AssertNothingCreated(folder);
    }

    [Theory]
    [InlineData("Unknown command 'frobnicate'", "frobnicate")]
    [InlineData("Unknown option '-v'", "-v")]
    [InlineData("Invalid command 'keys frob': usage: keys rotate | keys list", "keys", "frob")]
    [InlineData("Invalid command 'revoke': usage: revoke --user NAME", "revoke")]
    public async Task UnknownCommand_IsOneLineAndExitCode2_AndNeverAServerStart(string problem, params string[] command)
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);
        var port = FreePort();

        var run = await RunAsync(folder, [], ["--urls", $"http://127.0.0.1:{port}", .. command]);

        Assert.Equal(2, run.ExitCode); // exited on its own: a server would still be running
        var line = Assert.Single(Lines(run.Errors));
        Assert.StartsWith(problem, line);
        Assert.Contains("'help'", line);
        Assert.DoesNotContain("Now listening", run.Output);
        AssertNothingCreated(folder);
    }

    [Fact]
    public async Task Urls_AndConfigurationOverrides_StillStartTheServer()
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);
        var port = FreePort();
        using var server = ServerProcess.Start("IdentityHost", Environment(folder, []),
            "--urls", $"http://127.0.0.1:{port}", "--environment", "Development", "/IdentityHost:LogFormat", "Text", "Serilog:MinimumLevel:Default=Information");

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            Assert.False(server.HasExited, "IdentityHost exited:\n" + server.Output);
            try
            {
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live", deadline.Token)).StatusCode);
                break;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200, deadline.Token);
            }
        }
    }

    [Fact]
    public async Task PortInUse_IsOneLineNamingTheAddress()
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var run = await RunAsync(folder, [], "--urls", $"http://127.0.0.1:{port}");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal([$"Cannot listen on http://127.0.0.1:{port}: address already in use (another IdentityHost?); choose another with --urls."], Lines(run.Errors));
        AssertNoStackTrace(run.Output);
    }

    [Fact]
    public async Task PostgresUnreachable_IsOneLineNamingHostAndPort_WithoutThePassword()
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);
        var port = FreePort(); // nothing listens there

        var run = await RunAsync(folder, PostgresAt(port), "--urls", $"http://127.0.0.1:{FreePort()}");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal([$"Cannot open the database (Database:Provider=Postgres, host 127.0.0.1:{port}, database identityhost): connection refused; check ConnectionStrings:IdentityHost."], Lines(run.Errors));
        Assert.DoesNotContain(Password, run.Output);
        AssertNoStackTrace(run.Output);
    }

    [Fact]
    public async Task SqliteFileInAFolderThatCannotBeCreated_IsOneLineNamingTheFile()
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);
        var notAFolder = Path.Combine(folder.Path, "not-a-folder");
        await File.WriteAllTextAsync(notAFolder, "");
        var database = Path.Combine(notAFolder, "identityhost.db");

        var run = await RunAsync(folder, new() { ["ConnectionStrings__IdentityHost"] = $"Data Source={database}" }, "--urls", $"http://127.0.0.1:{FreePort()}");

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(Lines(run.Errors));
        Assert.StartsWith($"Cannot open the database (Database:Provider=Sqlite, file {database}): ", line);
        AssertNoStackTrace(run.Output);
    }

    [Fact]
    public async Task KeysFolderThatCannotBeCreated_IsOneLineNamingIt()
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);
        var notAFolder = Path.Combine(folder.Path, "not-a-folder");
        await File.WriteAllTextAsync(notAFolder, "");

        var run = await RunAsync(folder, new() { ["IdentityHost__KeysPath"] = notAFolder }, "--urls", $"http://127.0.0.1:{FreePort()}");

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(Lines(run.Errors));
        Assert.StartsWith($"The keys folder '{notAFolder}' cannot be read or created", line);
        Assert.Contains("IdentityHost:KeysPath", line);
        AssertNoStackTrace(run.Output);
    }

    [Fact]
    public async Task Command_DatabaseUnreachable_IsOneLineAndExitCode1_WithoutThePassword()
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);
        var port = FreePort();

        var run = await RunAsync(folder, PostgresAt(port), "revoke", "--user", "alice");

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(Lines(run.Errors));
        Assert.StartsWith($"Cannot open the database (Database:Provider=Postgres, host 127.0.0.1:{port}", line);
        Assert.DoesNotContain(Password, run.Output);
        AssertNoStackTrace(run.Output);
    }

    private static Dictionary<string, string?> PostgresAt(int port) => new()
    {
        ["Database__Provider"] = "Postgres",
        ["ConnectionStrings__IdentityHost"] = $"Host=127.0.0.1;Port={port};Database=identityhost;Username=identityhost;Password={Password};Timeout=5",
    };

    private static async Task<(int? ExitCode, string Output, string Errors)> RunAsync(TestFolder folder, Dictionary<string, string?> environment, params string[] arguments)
    {
        using var process = ServerProcess.Start("IdentityHost", Environment(folder, environment), arguments);
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, process.Output, process.ErrorOutput);
    }

    private static Dictionary<string, string?> Environment(TestFolder folder, Dictionary<string, string?> overrides)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Database__Provider"] = "Sqlite",
            ["ConnectionStrings__IdentityHost"] = $"Data Source={Path.Combine(folder.Path, "identityhost.db")}",
            ["IdentityHost__KeysPath"] = folder.KeysPath,
        };
        foreach (var (key, value) in overrides)
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>Neither the database file nor the keys folder exists: nothing was migrated, no key generated.</summary>
    private static void AssertNothingCreated(TestFolder folder)
    {
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    private static void AssertNoStackTrace(string output)
    {
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Exception", output);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
