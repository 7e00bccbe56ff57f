using System.Net;

namespace IdentityHost.Tests.Abuse;

/// <summary>
/// IdentityHost with rate limits on and proxy trust on: the in-memory server has no remote IP, so requests pick theirs
/// with X-Forwarded-For. Small limits, in one-hour windows so that no window rolls over during a test: 3 requests per
/// IP and 5 per confidential client on the token endpoint, 4 per public client and IP; 2 password sign-ins per IP and
/// 3 per user name. Each test makes a server of its own, hence fresh counters.
/// </summary>
internal static class RateLimitedHost
{
    private static int nextIp;

    public static IdentityHostFactory Create(bool trustProxy = true, Dictionary<string, string?>? overrides = null)
    {
        var factory = new IdentityHostFactory
        {
            Settings =
            {
                ["IdentityHost:RateLimits:Enabled"] = "true",
                ["IdentityHost:ForwardedHeaders:Enabled"] = trustProxy ? "true" : "false",
                ["IdentityHost:RateLimits:Token:PerIp:PermitLimit"] = "3",
                ["IdentityHost:RateLimits:Token:PerIp:Window"] = "01:00:00",
                ["IdentityHost:RateLimits:Token:PerClient:PermitLimit"] = "5",
                ["IdentityHost:RateLimits:Token:PerClient:Window"] = "01:00:00",
                ["IdentityHost:RateLimits:Token:PerPublicClientAndIp:PermitLimit"] = "4",
                ["IdentityHost:RateLimits:Token:PerPublicClientAndIp:Window"] = "01:00:00",
                ["IdentityHost:RateLimits:Login:PerIp:PermitLimit"] = "2",
                ["IdentityHost:RateLimits:Login:PerIp:Window"] = "01:00:00",
                ["IdentityHost:RateLimits:Login:PerUser:PermitLimit"] = "3",
                ["IdentityHost:RateLimits:Login:PerUser:Window"] = "01:00:00",
            },
        };
        foreach (var (key, value) in overrides ?? [])
        {
            factory.Settings[key] = value;
        }

        return factory;
    }

    public static string NewIp() => $"203.0.113.{Interlocked.Increment(ref nextIp) % 250 + 1}";

    public static TokenClient From(IdentityHostFactory factory, string ip)
    {
        var http = factory.CreateClient();
        http.DefaultRequestHeaders.Add("X-Forwarded-For", ip);
        return new TokenClient(http);
    }

    public static BrowserSession Browser(IdentityHostFactory factory, string ip)
    {
        var browser = new BrowserSession(factory);
        browser.Http.DefaultRequestHeaders.Add("X-Forwarded-For", ip);
        return browser;
    }

    public static void AssertRateLimited(HttpStatusCode status, TimeSpan? retryAfter, bool? noStore)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.True(noStore);
    }

    public static void AssertRateLimited(ProtocolResponse response)
    {
        AssertRateLimited(response.Status, response.Headers.RetryAfter?.Delta, response.Headers.CacheControl?.NoStore);
        Assert.Equal("slow_down", response.Error);
        Assert.StartsWith("Too many requests. Retry after ", response["error_description"]);
    }
}
