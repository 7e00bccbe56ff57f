using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace IdentityHost.Tests.Abuse;

/// <summary>
/// Small limits (3 per IP, 5 per client on the token endpoint; 2 login posts per IP; one-hour windows, so no window
/// rolls over during a test) with proxy trust on: the in-memory server has no remote IP, so requests pick theirs with
/// X-Forwarded-For. Each test gets a server of its own, hence fresh counters.
/// </summary>
public sealed class RateLimitTests
{
    private static int nextIp;

    [Fact]
    public async Task Token_OverPerIpLimit_Returns429WithRetryAfterAndSlowDown()
    {
        using var factory = CreateFactory();
        var client = From(factory, NewIp());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.ClientCredentialsAsync()).Status);
        }

        var rejected = await client.ClientCredentialsAsync();

        AssertRateLimited(rejected.Status, rejected.Headers.RetryAfter?.Delta, rejected.Headers.CacheControl?.NoStore);
        Assert.Equal("slow_down", rejected.Error);
        Assert.False(string.IsNullOrEmpty(rejected["error_description"]));
    }

    [Fact]
    public async Task Token_429_ExposesRetryAfterToBrowserApps()
    {
        using var factory = CreateFactory();
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
        using var factory = CreateFactory();
        var limited = From(factory, NewIp());
        var refreshToken = (await limited.PasswordAsync()).RefreshToken;
        await limited.ClientCredentialsAsync();
        await limited.ClientCredentialsAsync();

        Assert.Equal(HttpStatusCode.TooManyRequests, (await limited.RefreshAsync(refreshToken)).Status);

        var refreshed = await From(factory, NewIp()).RefreshAsync(refreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
    }

    [Fact]
    public async Task Token_OverPerClientLimit_Returns429FromAnyIp_OtherClientUnaffected()
    {
        using var factory = CreateFactory();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await From(factory, NewIp()).ClientCredentialsAsync()).Status);
        }

        var rejected = await From(factory, NewIp()).ClientCredentialsAsync();
        AssertRateLimited(rejected.Status, rejected.Headers.RetryAfter?.Delta, rejected.Headers.CacheControl?.NoStore);
        Assert.Equal("slow_down", rejected.Error);

        var other = await From(factory, NewIp()).ClientCredentialsAsync(clientId: "postman", secret: "postman-secret");
        Assert.Equal(HttpStatusCode.OK, other.Status);
    }

    [Fact]
    public async Task Facade_CountsAsClientWeb_OnTheTokenEndpointToo()
    {
        using var factory = CreateFactory();
        for (var i = 0; i < 5; i++)
        {
            using var response = await From(factory, NewIp()).Http.PostAsJsonAsync("api/token", new { username = "nobody", password = "wrong" });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        using var facade = await From(factory, NewIp()).Http.PostAsJsonAsync("api/token", new { username = "nobody", password = "wrong" });
        Assert.Equal(HttpStatusCode.TooManyRequests, facade.StatusCode);
        Assert.Equal("slow_down", JsonDocument.Parse(await facade.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());

        // client_id=web in the form of /connect/token shares the partition; postman does not.
        var form = await From(factory, NewIp()).PostAsync("connect/token", "web", null, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = "x" });
        Assert.Equal(HttpStatusCode.TooManyRequests, form.Status);
        Assert.Equal(HttpStatusCode.OK, (await From(factory, NewIp()).PasswordAsync()).Status);
    }

    [Fact]
    public async Task LoginPost_OverPerIpLimit_Returns429_GetAndOtherIpsUnaffected()
    {
        using var factory = CreateFactory();
        var browser = new BrowserSession(factory);
        browser.Http.DefaultRequestHeaders.Add("X-Forwarded-For", NewIp());
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await browser.SubmitLoginAsync("/account/login", "alice", "wrong-password")).StatusCode);
        }

        using var rejected = await browser.SubmitLoginAsync("/account/login", "alice", "wrong-password");
        AssertRateLimited(rejected.StatusCode, rejected.Headers.RetryAfter?.Delta, rejected.Headers.CacheControl?.NoStore);
        Assert.Contains("Too many sign-in attempts", await rejected.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, (await browser.Http.GetAsync("/account/login")).StatusCode);
        var other = new BrowserSession(factory);
        other.Http.DefaultRequestHeaders.Add("X-Forwarded-For", NewIp());
        Assert.Equal(HttpStatusCode.Redirect, (await other.SubmitLoginAsync("/account/login", "bob", TokenClient.Password)).StatusCode);
    }

    [Fact]
    public async Task ForwardedFor_IsIgnoredWithoutProxyTrust()
    {
        using var factory = CreateFactory(trustProxy: false);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await From(factory, NewIp()).ClientCredentialsAsync()).Status);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await From(factory, NewIp()).ClientCredentialsAsync()).Status);
    }

    private static IdentityHostFactory CreateFactory(bool trustProxy = true) => new()
    {
        Settings =
        {
            ["IdentityHost:RateLimits:Enabled"] = "true",
            ["IdentityHost:ForwardedHeaders:Enabled"] = trustProxy ? "true" : "false",
            ["IdentityHost:RateLimits:Token:PerIp:PermitLimit"] = "3",
            ["IdentityHost:RateLimits:Token:PerIp:Window"] = "01:00:00",
            ["IdentityHost:RateLimits:Token:PerClient:PermitLimit"] = "5",
            ["IdentityHost:RateLimits:Token:PerClient:Window"] = "01:00:00",
            ["IdentityHost:RateLimits:Login:PerIp:PermitLimit"] = "2",
            ["IdentityHost:RateLimits:Login:PerIp:Window"] = "01:00:00",
        },
    };

    private static string NewIp() => $"203.0.113.{Interlocked.Increment(ref nextIp) % 250 + 1}";

    private static TokenClient From(IdentityHostFactory factory, string ip)
    {
        var http = factory.CreateClient();
        http.DefaultRequestHeaders.Add("X-Forwarded-For", ip);
        return new TokenClient(http);
    }

    private static void AssertRateLimited(HttpStatusCode status, TimeSpan? retryAfter, bool? noStore)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.True(noStore);
    }
}
