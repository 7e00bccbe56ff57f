using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using IdentityHost.Configuration;

namespace IdentityHost.Hosting;

/// <summary>What a request is limited as by the rate-limiting middleware.</summary>
internal enum LimitedEndpoint
{
    None,
    Token,
    Facade,
}

/// <summary>
/// Picks the rate-limit partitions of a request, and the keys the other budgets (<see cref="RequestBudgets"/>) use.
/// The middleware only counts per remote IP, before anything is read or checked: the client's budget is charged once
/// it has authenticated, and a password attempt's once its user name is known (<see cref="TokenRequestLimits"/>).
/// </summary>
internal sealed class RateLimitPartitions(RateLimitOptions limits)
{
    private static readonly RateLimitPartition<string> Unlimited = RateLimitPartition.GetNoLimiter("");

    public static LimitedEndpoint Classify(HttpRequest request)
    {
        var path = (request.Path.Value ?? "").TrimEnd('/');
        if (path.Equals("/connect/token", StringComparison.OrdinalIgnoreCase))
        {
            return LimitedEndpoint.Token;
        }

        return path.Equals("/api/token", StringComparison.OrdinalIgnoreCase) || path.Equals("/api/token/refresh", StringComparison.OrdinalIgnoreCase)
            ? LimitedEndpoint.Facade
            : LimitedEndpoint.None;
    }

    public RateLimitPartition<string> PerIp(HttpContext context) => Classify(context.Request) == LimitedEndpoint.None
        ? Unlimited
        : FixedWindow(IpKey(context.Connection.RemoteIpAddress), limits.Token.PerIp);

    /// <summary>The IP as a partition key; IPv6 clients are grouped per /64, the smallest block one host usually gets.</summary>
    internal static string IpKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>
    /// A user name as a partition key: trimmed and upper-cased (invariant), so <c>Alice</c> and <c> alice</c> share one
    /// budget, then hashed, so a key has a fixed size however long the name an attacker sends.
    /// </summary>
    internal static string UserKey(string? userName) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes((userName ?? "").Trim().ToUpperInvariant())), 0, 16);

    internal static RateLimitPartition<string> FixedWindow(string key, RateLimitRule rule) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = rule.PermitLimit,
            Window = rule.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
