using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.RateLimiting;
using IdentityHost.Configuration;
using IdentityHost.Endpoints;
using IdentityHost.Http;
using Microsoft.AspNetCore.Http.Features;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Hosting;

/// <summary>What a request is limited as, and by which partitions: its remote IP and, on the token endpoint, its client.</summary>
internal enum LimitedEndpoint
{
    None,
    Token,
    Facade,
    Login,
}

/// <summary>
/// Picks the rate-limit partitions of a request. The client is read from the HTTP Basic header or from the form that
/// <see cref="Http.ProtocolRequestGuard"/> has already read and cached (never read here: the limiter is synchronous);
/// only clients configured under <c>IdentityHost:Clients</c> get a partition of their own, so random client ids cannot
/// create partitions. Facade requests are client <c>web</c>.
/// </summary>
internal sealed class RateLimitPartitions(RateLimitOptions limits, IReadOnlySet<string> knownClients)
{
    private const int MaxBasicHeaderLength = 1024;
    private static readonly RateLimitPartition<string> Unlimited = RateLimitPartition.GetNoLimiter("");

    public static LimitedEndpoint Classify(HttpRequest request)
    {
        var path = (request.Path.Value ?? "").TrimEnd('/');
        if (path.Equals("/connect/token", StringComparison.OrdinalIgnoreCase))
        {
            return LimitedEndpoint.Token;
        }

        if (path.Equals("/api/token", StringComparison.OrdinalIgnoreCase) || path.Equals("/api/token/refresh", StringComparison.OrdinalIgnoreCase))
        {
            return LimitedEndpoint.Facade;
        }

        return HttpMethods.IsPost(request.Method) && path.Equals(InteractiveSignInExtensions.LoginPath, StringComparison.OrdinalIgnoreCase)
            ? LimitedEndpoint.Login
            : LimitedEndpoint.None;
    }

    public RateLimitPartition<string> PerIp(HttpContext context) => Classify(context.Request) switch
    {
        LimitedEndpoint.Token or LimitedEndpoint.Facade => FixedWindow("token-ip|" + IpKey(context.Connection.RemoteIpAddress), limits.Token.PerIp),
        LimitedEndpoint.Login => FixedWindow("login-ip|" + IpKey(context.Connection.RemoteIpAddress), limits.Login.PerIp),
        _ => Unlimited,
    };

    public RateLimitPartition<string> PerClient(HttpContext context)
    {
        var clientId = Classify(context.Request) switch
        {
            LimitedEndpoint.Token => ClientId(context),
            LimitedEndpoint.Facade => JsonTokenFacade.ClientId,
            _ => null,
        };
        return clientId is not null && knownClients.Contains(clientId) ? FixedWindow("client|" + clientId, limits.Token.PerClient) : Unlimited;
    }

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

    /// <summary>The client_id of HTTP Basic authentication (RFC 6749 §2.3.1, form-encoded), else of the cached form.</summary>
    internal static string? ClientId(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { Length: > 6 and <= MaxBasicHeaderLength } header &&
            header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var buffer = new byte[header.Length];
            if (!Convert.TryFromBase64String(header[6..].Trim(), buffer, out var length))
            {
                return null;
            }

            var credentials = Encoding.UTF8.GetString(buffer, 0, length);
            var separator = credentials.IndexOf(':', StringComparison.Ordinal);
            return separator > 0 ? Uri.UnescapeDataString(credentials[..separator].Replace('+', ' ')) : null;
        }

        var form = context.Features.Get<IFormFeature>()?.Form;
        return form is not null && form.TryGetValue(Parameters.ClientId, out var values) && values.Count == 1 ? values[0] : null;
    }

    private static RateLimitPartition<string> FixedWindow(string key, RateLimitRule rule) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = rule.PermitLimit,
            Window = rule.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
