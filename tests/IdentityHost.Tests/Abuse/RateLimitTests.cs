using System.Net;
using static IdentityHost.Tests.Abuse.RateLimitedHost;

namespace IdentityHost.Tests.Abuse;

/// <summary>The per-IP limit in front of the token endpoint, and the per-client budgets (limits: <see cref="RateLimitedHost"/>).</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task Token_OverPerIpLimit_Returns429WithRetryAfterAndSlowDown()
    {
        using var factory = Create();
        var client = From(factory, NewIp());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.ClientCredentialsAsync()).Status);
        }

        var rejected = await client.ClientCredentialsAsync();

        AssertRateLimited(rejected);
    }

    [Fact]
    public async Task Token_429_ExposesRetryAfterToBrowserApps()
    {
        using var factory = Create();
        var spa = From(factory, NewIp());
        spa.Http.DefaultRequestHeaders.Add("Origin", "http://localhost:5002");
        for (var i = 0; i < 3; i++)
        {
            await spa.PostAsync("connect/token", "spa", null, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = "x" });
        }

        var rejected = await spa.PostAsync("connect/token", "spa", null, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = "x" });

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.Status);
        Assert.Equal("http://localhost:5002", rejected.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Retry-After", rejected.Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Token_PerIpLimit_LeavesOtherIpsAlone_AndDoesNotSpendTheRefreshToken()
    {
        using var factory = Create();
        var limited = From(factory, NewIp());
        var refreshToken = (await limited.PasswordAsync()).RefreshToken;
        await limited.ClientCredentialsAsync();
        await limited.ClientCredentialsAsync();

        Assert.Equal(HttpStatusCode.TooManyRequests, (await limited.RefreshAsync(refreshToken)).Status);

        var refreshed = await From(factory, NewIp()).RefreshAsync(refreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
    }

    [Fact]
    public async Task ConfidentialClient_OverItsLimit_Returns429FromAnyIp_OtherClientUnaffected()
    {
        using var factory = Create();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await From(factory, NewIp()).ClientCredentialsAsync()).Status);
        }

        var rejected = await From(factory, NewIp()).ClientCredentialsAsync();
        AssertRateLimited(rejected);

        var other = await From(factory, NewIp()).ClientCredentialsAsync(clientId: "postman", secret: "postman-secret");
        Assert.Equal(HttpStatusCode.OK, other.Status);
    }

    [Fact]
    public async Task ConfidentialClient_BudgetIsChargedOnlyOnceItHasAuthenticated()
    {
        using var factory = Create();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await From(factory, NewIp()).ClientCredentialsAsync(secret: "guessed")).Status);
        }

        Assert.Equal(HttpStatusCode.OK, (await From(factory, NewIp()).ClientCredentialsAsync()).Status);
    }

    [Fact]
    public async Task PublicClient_IsCountedPerClientAndIp_SoOtherAddressesCannotExhaustIt()
    {
        using var factory = Create(overrides: new() { ["IdentityHost:RateLimits:Token:PerIp:PermitLimit"] = "100" });
        for (var ip = 0; ip < 4; ip++)
        {
            var attacker = From(factory, NewIp());
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal("invalid_grant", (await RefreshAsSpaAsync(attacker)).Error);
            }

            AssertRateLimited(await RefreshAsSpaAsync(attacker));
        }

        Assert.Equal("invalid_grant", (await RefreshAsSpaAsync(From(factory, NewIp()))).Error);
    }

    [Fact]
    public async Task ForwardedFor_IsIgnoredWithoutProxyTrust()
    {
        using var factory = Create(trustProxy: false);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await From(factory, NewIp()).ClientCredentialsAsync()).Status);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await From(factory, NewIp()).ClientCredentialsAsync()).Status);
    }

    private static Task<ProtocolResponse> RefreshAsSpaAsync(TokenClient client) =>
        client.PostAsync("connect/token", "spa", null, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = "not-a-token" });
}
