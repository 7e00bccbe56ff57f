using System.Net;
using Microsoft.Extensions.Options;

namespace IdentityHost.Configuration;

/// <summary>
/// Trust in a TLS-terminating reverse proxy, bound from <c>IdentityHost:ForwardedHeaders</c>. When enabled, the client
/// IP (rate limits) and scheme (OpenIddict's HTTPS requirement) come from <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> sent by a known proxy; other senders' headers are ignored.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string SectionName = "IdentityHost:ForwardedHeaders";

    /// <summary>Whether forwarded headers are applied. Defaults to false: behind a proxy every client then shares the proxy's IP.</summary>
    public bool Enabled { get; set; }

    /// <summary>IP addresses of the proxies allowed to forward, besides loopback (always trusted).</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of such proxies in CIDR notation, e.g. <c>10.0.0.0/8</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>Every proxy address and network must parse; messages name the setting path.</summary>
public sealed class ForwardedHeadersSettingsValidator : IValidateOptions<ForwardedHeadersSettings>
{
    public ValidateOptionsResult Validate(string? name, ForwardedHeadersSettings options)
    {
        var errors = options.KnownProxies
            .Where(proxy => !IPAddress.TryParse(proxy, out _))
            .Select(proxy => $"{ForwardedHeadersSettings.SectionName}:KnownProxies contains '{proxy}', which is not an IP address.")
            .Concat(options.KnownNetworks
                .Where(network => !IPNetwork.TryParse(network, out _))
                .Select(network => $"{ForwardedHeadersSettings.SectionName}:KnownNetworks contains '{network}', which is not a CIDR network (e.g. 10.0.0.0/8)."))
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
