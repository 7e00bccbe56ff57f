using System.Net;

namespace IdentityHost.Tests.HotPath;

/// <summary>
/// On SQLite each pooled DbContext keeps its connection open between requests and the hot path's statements stay
/// prepared on it (SqliteSessions, PreparedSql). Sign-ins open and close connections through EF Core in between, so a
/// statement prepared before such a close must never run again on the native connection another request holds by
/// then: when it did, requests stalled on "database is locked" and answered 500 after 30 s.
/// </summary>
public sealed class KeptConnectionTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task ParallelSignInsAndRefreshChains_AllSucceed_OnKeptConnections()
    {
        var client = factory.CreateTokenClient();

        // Several sign-ins per worker: a sign-in's writes run in a transaction EF Core opens the connection for, and
        // before the connection was kept open for good, EF closed it again afterwards.
        async Task<string> ChainAsync()
        {
            string? latest = null;
            for (var round = 0; round < 5; round++)
            {
                var response = await client.PasswordAsync();
                Assert.True(response.Status == HttpStatusCode.OK, $"sign-in {round}: {response}");
                var next = await client.RefreshAsync(response.RefreshToken);
                Assert.True(next.Status == HttpStatusCode.OK, $"refresh {round}: {next}");
                latest = next.RefreshToken;
            }

            return latest!;
        }

        var latest = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(ChainAsync)));

        // Every chain's latest token still works once the burst is over (nothing was half-written).
        Assert.Equal(16, latest.Distinct().Count());
        foreach (var token in latest)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(token)).Status);
        }
    }
}
