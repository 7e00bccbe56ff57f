using System.Net;
using System.Threading.RateLimiting;
using IdentityHost.Configuration;
using IdentityHost.Telemetry;
using Microsoft.Extensions.Options;

namespace IdentityHost.Hosting;

/// <summary>
/// The rate limits that need to know more than the request's path and IP, so cannot be charged by the rate-limiting
/// middleware: who the client is once it has authenticated (<see cref="TokenRequestLimits"/>) and which user a
/// password sign-in is for (the token endpoint and facade through <see cref="TokenRequestLimits"/>, the login page
/// itself). All of <see cref="RateLimitOptions.Login"/> is one budget, whichever of the three the attempt comes through.
/// </summary>
public sealed class RequestBudgets : IDisposable
{
    private readonly PartitionedRateLimiter<string>? confidentialClients;
    private readonly PartitionedRateLimiter<string>? publicClients;
    private readonly PartitionedRateLimiter<(string Ip, string User)>? passwords;
    private readonly TimeSpan longestWindow;

    private readonly IdentityHostTelemetry? telemetry;

    public RequestBudgets(IOptions<RateLimitOptions> options, IdentityHostTelemetry? telemetry = null)
    {
        this.telemetry = telemetry;
        var limits = options.Value;
        if (!limits.Enabled)
        {
            return;
        }

        confidentialClients = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartitions.FixedWindow(key, limits.Token.PerClient));
        publicClients = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartitions.FixedWindow(key, limits.Token.PerPublicClientAndIp));

        // Per IP first: an address over its budget creates no user-name partitions.
        passwords = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<(string Ip, string User), string>(attempt => RateLimitPartitions.FixedWindow(attempt.Ip, limits.Login.PerIp)),
            PartitionedRateLimiter.Create<(string Ip, string User), string>(attempt => RateLimitPartitions.FixedWindow(attempt.User, limits.Login.PerUser)));
        longestWindow = new[] { limits.Token.PerClient, limits.Token.PerPublicClientAndIp, limits.Login.PerIp, limits.Login.PerUser }.Max(rule => rule.Window);
    }

    /// <summary>
    /// A token request of an identified client: a confidential one (authenticated) is counted per client, a public
    /// one per client and IP. Null when allowed, else how long to wait.
    /// </summary>
    public TimeSpan? ChargeClient(string clientId, bool confidential, IPAddress? address) => confidential
        ? Counted(Acquire(confidentialClients, clientId), IdentityHostTelemetry.RateLimitPolicy.PerClient)
        : Counted(Acquire(publicClients, clientId + "|" + RateLimitPartitions.IpKey(address)), IdentityHostTelemetry.RateLimitPolicy.PerPublicClientAndIp);

    /// <summary>A password sign-in attempt, counted per IP and per user name. Null when allowed, else how long to wait.</summary>
    public TimeSpan? ChargePasswordAttempt(IPAddress? address, string? userName) =>
        Counted(Acquire(passwords, (RateLimitPartitions.IpKey(address), RateLimitPartitions.UserKey(userName))), IdentityHostTelemetry.RateLimitPolicy.SignIn);

    public void Dispose()
    {
        confidentialClients?.Dispose();
        publicClients?.Dispose();
        passwords?.Dispose();
    }

    private TimeSpan? Counted(TimeSpan? refusedFor, string policy)
    {
        if (refusedFor is not null)
        {
            telemetry?.CountRateLimitRejection(policy);
        }

        return refusedFor;
    }

    private TimeSpan? Acquire<TResource>(PartitionedRateLimiter<TResource>? limiter, TResource resource)
    {
        if (limiter is null)
        {
            return null;
        }

        using var lease = limiter.AttemptAcquire(resource);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : longestWindow;
    }
}
