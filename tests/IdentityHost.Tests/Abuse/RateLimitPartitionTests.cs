using System.Net;
using IdentityHost.Hosting;
using Microsoft.AspNetCore.Http;

namespace IdentityHost.Tests.Abuse;

/// <summary>How a request maps to its per-IP partition, and how user names become partition keys.</summary>
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
    [InlineData("alice", " ALICE ")]
    [InlineData("Alice", "alice\t")]
    [InlineData("bj\u00f6rn", "BJ\u00d6RN")]
    public void UserKey_IgnoresCaseAndSurroundingSpace(string one, string other)
    {
        Assert.Equal(RateLimitPartitions.UserKey(one), RateLimitPartitions.UserKey(other));
        Assert.NotEqual(RateLimitPartitions.UserKey(one), RateLimitPartitions.UserKey("bob"));
    }

    [Fact]
    public void UserKey_HasAFixedSize_HoweverLongTheName()
    {
        var huge = RateLimitPartitions.UserKey(new string('a', 1_000_000));

        Assert.Equal(RateLimitPartitions.UserKey("a").Length, huge.Length);
        Assert.InRange(huge.Length, 16, 64);
        Assert.Equal(RateLimitPartitions.UserKey(""), RateLimitPartitions.UserKey(null));
    }

    [Theory]
    [InlineData("POST", "/connect/token", "Token")]
    [InlineData("POST", "/CONNECT/TOKEN/", "Token")]
    [InlineData("POST", "/api/token", "Facade")]
    [InlineData("POST", "/api/token/refresh", "Facade")]
    [InlineData("POST", "/account/login", "None")]
    [InlineData("GET", "/account/login", "None")]
    [InlineData("POST", "/connect/introspect", "None")]
    [InlineData("GET", "/health/ready", "None")]
    public void Classify_LimitsTokenAndFacadePerIp_TheLoginPageSpendsTheSignInBudgetItself(string method, string path, string expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;

        Assert.Equal(expected, RateLimitPartitions.Classify(context.Request).ToString());
    }
}
