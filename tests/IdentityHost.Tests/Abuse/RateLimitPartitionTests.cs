using System.Net;
using System.Text;
using IdentityHost.Hosting;
using Microsoft.AspNetCore.Http;

namespace IdentityHost.Tests.Abuse;

/// <summary>How a request maps to its per-IP and per-client partitions.</summary>
public sealed class RateLimitPartitionTests
{
    [Theory]
    [InlineData("198.51.100.7", "198.51.100.7")]
    [InlineData("::ffff:198.51.100.7", "198.51.100.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void IpKey_GroupsIpv6ByPrefix64_AndUnmapsIpv4(string address, string expected)
    {
        Assert.Equal(expected, RateLimitPartitions.IpKey(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("postman:postman-secret", "postman")]
    [InlineData("my+client%3A1:secret", "my client:1")]
    [InlineData("no-separator", null)]
    public void ClientId_ComesFromHttpBasic(string credentials, string? expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials));

        Assert.Equal(expected, RateLimitPartitions.ClientId(context));
    }

    [Fact]
    public void ClientId_IgnoresInvalidBase64()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = "Basic %%%not-base64";

        Assert.Null(RateLimitPartitions.ClientId(context));
    }

    [Fact]
    public void ClientId_NeverThrows_OnRandomAuthorizationHeaders()
    {
        var random = new Random(20261127);
        for (var i = 0; i < 2_000; i++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            var context = new DefaultHttpContext();
            context.Request.Headers.Authorization = random.Next(3) switch
            {
                0 => "Basic " + Convert.ToBase64String(bytes),
                1 => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("%" + Encoding.Latin1.GetString(bytes) + ":x")),
                _ => "Basic " + Encoding.Latin1.GetString(bytes),
            };

            _ = RateLimitPartitions.ClientId(context);
        }
    }

    [Theory]
    [InlineData("POST", "/connect/token", "Token")]
    [InlineData("POST", "/CONNECT/TOKEN/", "Token")]
    [InlineData("POST", "/api/token", "Facade")]
    [InlineData("POST", "/api/token/refresh", "Facade")]
    [InlineData("POST", "/account/login", "Login")]
    [InlineData("GET", "/account/login", "None")]
    [InlineData("POST", "/connect/introspect", "None")]
    [InlineData("GET", "/health/ready", "None")]
    public void Classify_LimitsTokenFacadeAndLoginPosts(string method, string path, string expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;

        Assert.Equal(expected, RateLimitPartitions.Classify(context.Request).ToString());
    }
}
