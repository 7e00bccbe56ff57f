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

    /// <summary><c>/connect/token</c> and the JSON facade (<c>/api/token</c>, <c>/api/token/refresh</c>, client <c>web</c>).</summary>
    public TokenEndpointLimits Token { get; set; } = new();

    /// <summary>
    /// Every password sign-in, wherever it comes from: the login form (<c>POST /account/login</c>), the password grant
    /// on <c>/connect/token</c> and the facade's <c>/api/token</c> share one budget.
    /// </summary>
    public LoginLimits Login { get; set; } = new();
}

public sealed class TokenEndpointLimits
{
    /// <summary>
    /// Per remote IP address (IPv6: per /64), counted before anything else: a flood guard, high enough for one back-end
    /// refreshing for many users from one address. Defaults to 12,000 requests per minute (200 a second).
    /// </summary>
    public RateLimitRule PerIp { get; set; } = new() { PermitLimit = 12_000 };

    /// <summary>
    /// Per confidential client, whichever IP it comes from, counted only once the client has authenticated (so no one
    /// else can spend it). Defaults to 12,000 requests per minute (200 a second).
    /// </summary>
    public RateLimitRule PerClient { get; set; } = new() { PermitLimit = 12_000 };

    /// <summary>
    /// Per public client (no secret, e.g. <c>spa</c>, <c>web</c>) and remote IP together: anyone can name a public
    /// client, so one address can only spend its own share. Defaults to 300 requests per minute.
    /// </summary>
    public RateLimitRule PerPublicClientAndIp { get; set; } = new() { PermitLimit = 300 };
}

public sealed class LoginLimits
{
    /// <summary>Password sign-ins per remote IP address (IPv6: per /64). Defaults to 10 per minute.</summary>
    public RateLimitRule PerIp { get; set; } = new() { PermitLimit = 10 };

    /// <summary>
    /// Password sign-ins per user name (trimmed, case-insensitive), from any number of addresses, whether or not the
    /// user exists. Defaults to 10 per 5 minutes, about the pace Identity's lock-out (5 failures, then 5 minutes) allows.
    /// </summary>
    public RateLimitRule PerUser { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(5) };
}

public sealed class RateLimitRule
{
    /// <summary>Requests allowed per window and partition. Must be positive.</summary>
    public int PermitLimit { get; set; }

    /// <summary>Length of the fixed window, at least one second. Defaults to 1 minute.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
