using System.Net;

namespace IdentityHost.Tests.ScaleOut;

/// <summary>
/// Refresh chains run against a real IdentityHost process that is killed with SIGKILL mid-load and started again on
/// the same database and keys: every chain's last received refresh token still works (zero lost) and older spent
/// tokens do not. Runs on the test run's database engine (SQLite, and PostgreSQL in the second CI run).
/// </summary>
public sealed class CrashSafetyTests
{
    private const int Chains = 8;

    [Fact]
    public async Task SigkillMidLoad_LosesNoChain_AndRevivesNoSpentToken()
    {
        using var folder = new TestFolder();
        var url = $"http://127.0.0.1:{RunningStack.FreePort()}";
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = url,
            ["IdentityHost__Issuer"] = url + "/",
            ["Database__Provider"] = folder.Provider,
            ["ConnectionStrings__IdentityHost"] = folder.ConnectionString,
            ["IdentityHost__KeysPath"] = folder.KeysPath,
            ["IdentityHost__RefreshTokens__ReuseLeeway"] = "00:02:00",
            ["Serilog__MinimumLevel__Default"] = "Warning",
            ["IdentityHost__RateLimits__Enabled"] = "false",
        };
        using var http = new HttpClient { BaseAddress = new Uri(url + "/"), Timeout = TimeSpan.FromSeconds(10) };
        var client = new TokenClient(http);

        var server = ServerProcess.Start("IdentityHost", environment);
        var chains = new List<Chain>();
        try
        {
            await WaitUntilReadyAsync(http, server);
            for (var index = 0; index < Chains; index++)
            {
                chains.Add(new Chain((await client.PasswordAsync()).RefreshToken));
            }

            // Refresh in closed loops, then kill the server while requests are in flight.
            using var stop = new CancellationTokenSource();
            var workers = chains.Select(chain => Task.Run(() => chain.RunAsync(client, stop.Token))).ToList();
            await Task.Delay(TimeSpan.FromMilliseconds(1500));
            Assert.All(chains, chain => Assert.True(chain.Spent.Count > 0, "every chain refreshed before the crash"));
            server.Dispose();
            await stop.CancelAsync();
            await Task.WhenAll(workers);

            server = ServerProcess.Start("IdentityHost", environment);
            await WaitUntilReadyAsync(http, server);

            // Zero lost: each chain's last received token works (a lost response is retried within the leeway).
            foreach (var chain in chains)
            {
                var resumed = await client.RefreshAsync(chain.Last);
                Assert.True(resumed.Status == HttpStatusCode.OK, $"chain lost after {chain.Spent.Count} refreshes: {resumed}\n{server.Output}");
            }

            // No spent token works: an older one is a replay.
            foreach (var chain in chains.Where(chain => chain.Spent.Count >= 2))
            {
                Assert.Equal("invalid_grant", (await client.RefreshAsync(chain.Spent[0])).Error);
            }
        }
        finally
        {
            server.Dispose();
        }
    }

    private static async Task WaitUntilReadyAsync(HttpClient http, ServerProcess server)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(".well-known/openid-configuration", deadline.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (!server.HasExited)
            {
            }

            Assert.False(server.HasExited, server.Output);
            await Task.Delay(100, deadline.Token);
        }
    }

    /// <summary>One client's refresh chain: the last token it received and the ones it has spent.</summary>
    private sealed class Chain(string first)
    {
        public string Last { get; private set; } = first;

        public List<string> Spent { get; } = [];

        public async Task RunAsync(TokenClient client, CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                ProtocolResponse response;
                try
                {
                    response = await client.RefreshAsync(Last);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    return; // the server died mid-request: keep the last token received
                }

                if (response.Status != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"refresh failed before the crash: {response}");
                }

                Spent.Add(Last);
                Last = response.RefreshToken;
            }
        }
    }
}
