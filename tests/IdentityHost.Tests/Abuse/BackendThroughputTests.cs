using System.Net;
using IdentityHost.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityHost.Tests.Abuse;

/// <summary>
/// A confidential back-end refreshing for many users from one address (one client, one IP, 100 refreshes a second for
/// 30 seconds) is not throttled by the default limits. The limiter counts in real time, so the pace is checked on the
/// configured rules and a shorter real burst runs against them: several hundred refreshes as fast as they go.
/// </summary>
public sealed class BackendThroughputTests
{
    private const double RefreshesPerSecond = 100;

    [Fact]
    public async Task ConfidentialBackend_OneIp_ManyUsers_IsNotThrottledByTheDefaults()
    {
        using var factory = new IdentityHostFactory
        {
            Settings = { ["IdentityHost:RateLimits:Enabled"] = "true", ["IdentityHost:ForwardedHeaders:Enabled"] = "true" },
        };

        // Every rule a confidential client's refresh spends sustains 100 a second (so 3,000 in 30 s fit too).
        var limits = factory.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value;
        Assert.True(limits.Enabled);
        foreach (var (name, rule) in new[] { ("Token:PerIp", limits.Token.PerIp), ("Token:PerClient", limits.Token.PerClient) })
        {
            Assert.True(rule.PermitLimit / rule.Window.TotalSeconds >= RefreshesPerSecond,
                $"{name} allows {rule.PermitLimit} per {rule.Window}, less than {RefreshesPerSecond} a second");
        }

        // 8 users signed in through the back-end, then 8 × 40 refreshes from the same address, in parallel chains.
        var backend = new TokenClient(factory.CreateClient());
        backend.Http.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.10");
        var users = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            users.Add(await factory.CreateUserAsync());
        }

        var chains = users.Select(async user =>
        {
            var statuses = new List<HttpStatusCode>();
            var tokens = await backend.PasswordAsync(username: user);
            statuses.Add(tokens.Status);
            for (var i = 0; i < 40 && tokens.Status == HttpStatusCode.OK; i++)
            {
                tokens = await backend.RefreshAsync(tokens.RefreshToken);
                statuses.Add(tokens.Status);
            }

            return statuses;
        });

        var all = (await Task.WhenAll(chains)).SelectMany(statuses => statuses).ToList();
        Assert.Equal(8 * 41, all.Count);
        Assert.All(all, status => Assert.Equal(HttpStatusCode.OK, status));
    }
}
