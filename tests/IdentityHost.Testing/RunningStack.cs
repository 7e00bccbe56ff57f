using System.Net;
using System.Net.Sockets;

namespace IdentityHost.Testing;

/// <summary>
/// IdentityHost and SampleApi as real processes on free 127.0.0.1 ports, started as <c>dotnet run</c> would start them
/// (Development), on a throwaway SQLite file and keys folder, with SampleApi trusting this IdentityHost. For clients
/// that need real sockets: newman, a browser. Both processes are killed on dispose.
/// </summary>
public sealed class RunningStack : IDisposable
{
    private const int Attempts = 3;

    private RunningStack(TestFolder folder, RunningStackOptions options, ServerProcess identityHost, ServerProcess sampleApi)
    {
        Folder = folder;
        IdentityHostUrl = options.IdentityHostUrl;
        SampleApiUrl = options.SampleApiUrl;
        IdentityHost = identityHost;
        SampleApi = sampleApi;
    }

    /// <summary>IdentityHost's base URL, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash); the issuer is this plus <c>/</c>.</summary>
    public string IdentityHostUrl { get; }

    /// <summary>SampleApi's base URL, e.g. <c>http://127.0.0.1:41235</c> (no trailing slash).</summary>
    public string SampleApiUrl { get; }

    public ServerProcess IdentityHost { get; }

    public ServerProcess SampleApi { get; }

    /// <summary>The database file and keys folder of this IdentityHost.</summary>
    public TestFolder Folder { get; }

    /// <summary>Both servers' console output, for failure messages.</summary>
    public string Logs => $"--- IdentityHost ---\n{IdentityHost.Output}\n--- SampleApi ---\n{SampleApi.Output}";

    /// <summary>
    /// Starts both apps and waits until IdentityHost serves its discovery document and SampleApi <c>/api/public</c>.
    /// <paramref name="configure"/> may add environment variables per app; it sees the URLs already chosen, so
    /// settings can name them (a redirect URI on SampleApi's port). Ports are picked just before the start: if one was
    /// taken in between, both apps are started again on new ports.
    /// </summary>
    /// <exception cref="InvalidOperationException">An app exited or did not answer within <paramref name="timeout"/>
    /// (default 60 s); the message holds its output.</exception>
    public static async Task<RunningStack> StartAsync(Action<RunningStackOptions>? configure = null, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        for (var attempt = 1; ; attempt++)
        {
            var options = new RunningStackOptions(FreePort(), FreePort());
            configure?.Invoke(options);
            var folder = new TestFolder();
            var identityHost = ServerProcess.Start("IdentityHost", IdentityHostEnvironment(options, folder));
            var sampleApi = ServerProcess.Start("SampleApi", SampleApiEnvironment(options));
            var stack = new RunningStack(folder, options, identityHost, sampleApi);
            try
            {
                await stack.WaitUntilReadyAsync(deadline.Token);
                return stack;
            }
            catch (InvalidOperationException ex)
            {
                stack.Dispose();
                var portTaken = stack.Logs.Contains("address already in use", StringComparison.OrdinalIgnoreCase);
                if (!portTaken || attempt == Attempts || deadline.IsCancellationRequested)
                {
                    throw new InvalidOperationException($"IdentityHost and SampleApi did not start: {ex.Message}\n{stack.Logs}", ex);
                }
            }
        }
    }

    public void Dispose()
    {
        SampleApi.Dispose();
        IdentityHost.Dispose();
        Folder.Dispose();
    }

    private static Dictionary<string, string?> IdentityHostEnvironment(RunningStackOptions options, TestFolder folder)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = options.IdentityHostUrl,
            ["IdentityHost__Issuer"] = options.IdentityHostUrl + "/",
            ["Database__Provider"] = folder.Provider,
            ["ConnectionStrings__IdentityHost"] = folder.ConnectionString,
            ["IdentityHost__KeysPath"] = folder.KeysPath,
        };
        return With(environment, options.IdentityHostEnvironment);
    }

    private static Dictionary<string, string?> SampleApiEnvironment(RunningStackOptions options)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = options.SampleApiUrl,
            ["SampleApi__Authority"] = options.IdentityHostUrl + "/",
        };
        return With(environment, options.SampleApiEnvironment);
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?> environment, Dictionary<string, string?> extra)
    {
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        return environment;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellation)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await WaitForAsync(http, IdentityHost, "IdentityHost", $"{IdentityHostUrl}/.well-known/openid-configuration", cancellation);
        await WaitForAsync(http, SampleApi, "SampleApi", $"{SampleApiUrl}/api/public", cancellation);
    }

    private static async Task WaitForAsync(HttpClient http, ServerProcess server, string name, string url, CancellationToken cancellation)
    {
        try
        {
            while (!await AnswersAsync(http, url, cancellation))
            {
                if (server.HasExited)
                {
                    throw new InvalidOperationException($"{name} exited before answering {url}.");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellation);
            }
        }
        catch (OperationCanceledException ex) when (cancellation.IsCancellationRequested)
        {
            throw new InvalidOperationException($"{name} did not answer {url} in time.", ex);
        }
    }

    private static async Task<bool> AnswersAsync(HttpClient http, string url, CancellationToken cancellation)
    {
        try
        {
            using var response = await http.GetAsync(url, cancellation);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false; // not listening yet
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return false; // this request timed out, the deadline has not passed
        }
    }

    /// <summary>A loopback port free at the time of the call.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>What <see cref="RunningStack.StartAsync"/> starts: the chosen URLs and extra settings per app.</summary>
public sealed class RunningStackOptions
{
    internal RunningStackOptions(int identityHostPort, int sampleApiPort)
    {
        IdentityHostUrl = $"http://127.0.0.1:{identityHostPort}";
        SampleApiUrl = $"http://127.0.0.1:{sampleApiPort}";
    }

    public string IdentityHostUrl { get; }

    public string SampleApiUrl { get; }

    /// <summary>
    /// Environment variables for IdentityHost, e.g. <c>["IdentityHost__Clients__spa__AccessTokenLifetime"] = "00:00:05"</c>.
    /// Applied last, so they may replace the stack's own (database, keys folder).
    /// </summary>
    public Dictionary<string, string?> IdentityHostEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>Environment variables for SampleApi, e.g. <c>["SampleApi__Validation"] = "Introspection"</c>. Applied last.</summary>
    public Dictionary<string, string?> SampleApiEnvironment { get; } = new(StringComparer.Ordinal);
}
