namespace IdentityHost.Configuration;

/// <summary>
/// Request rate limits, bound from <c>IdentityHost:RateLimits</c>. Each rule is a fixed window: at most
/// <see cref="RateLimitRule.PermitLimit"/> requests per <see cref="RateLimitRule.Window"/> and partition; a request
/// over the limit gets <c>429</c> with <c>Retry-After</c> and is not processed at all (a refresh token is not spent).
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "IdentityHost:RateLimits";

    /// <summary>Whether requests are limited at all. Turn it off for load tests (<c>IdentityHost__RateLimits__Enabled=false</c>). Defaults to true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary><c>/connect/token</c> and the JSON facade (<c>/api/token</c>, <c>/api/token/refresh</c>, counted as client <c>web</c>).</summary>
    public TokenEndpointLimits Token { get; set; } = new();

    /// <summary>The login form (<c>POST /account/login</c>).</summary>
    public LoginLimits Login { get; set; } = new();
}

public sealed class TokenEndpointLimits
{
    /// <summary>Per remote IP address (IPv6: per /64). Defaults to 300 requests per minute.</summary>
    public RateLimitRule PerIp { get; set; } = new() { PermitLimit = 300 };

    /// <summary>
    /// Per configured client (<c>client_id</c> from HTTP Basic or the form), whichever IP it comes from. Requests naming
    /// no configured client are only limited per IP. Defaults to 1,200 requests per minute.
    /// </summary>
    public RateLimitRule PerClient { get; set; } = new() { PermitLimit = 1200 };
}

public sealed class LoginLimits
{
    /// <summary>Per remote IP address (IPv6: per /64). Defaults to 10 attempts per minute.</summary>
    public RateLimitRule PerIp { get; set; } = new() { PermitLimit = 10 };
}

public sealed class RateLimitRule
{
    /// <summary>Requests allowed per window and partition. Must be positive.</summary>
    public int PermitLimit { get; set; }

    /// <summary>Length of the fixed window, at least one second. Defaults to 1 minute.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
