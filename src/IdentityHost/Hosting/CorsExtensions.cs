using IdentityHost.Configuration;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace IdentityHost.Hosting;

public static class CorsExtensions
{
    public const string PolicyName = "registered-clients";

    /// <summary>
    /// Browser apps on another origin (the sample SPA on :5002) call discovery, the token, revocation and userinfo
    /// endpoints with fetch. Allowed origins are exactly those of the clients' registered redirect URIs; no
    /// credentials (cookies) are ever allowed cross-origin. Scripts may read WWW-Authenticate and a 429's Retry-After.
    /// </summary>
    public static WebApplicationBuilder AddClientCors(this WebApplicationBuilder builder)
    {
        builder.Services.AddCors();
        builder.Services.AddSingleton<IConfigureOptions<CorsOptions>, ConfigureClientOrigins>();
        return builder;
    }

    private sealed class ConfigureClientOrigins(IOptions<IdentityHostOptions> settings) : IConfigureOptions<CorsOptions>
    {
        public void Configure(CorsOptions options)
        {
            var origins = settings.Value.Clients.Values
                .SelectMany(client => client.RedirectUris.Concat(client.PostLogoutRedirectUris))
                .Select(uri => uri.GetLeftPart(UriPartial.Authority))
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .ToArray();
            options.AddPolicy(PolicyName, policy => policy
                .WithOrigins(origins)
                .WithMethods(HttpMethods.Get, HttpMethods.Post)
                .WithHeaders("Authorization", "Content-Type", "DPoP")
                .WithExposedHeaders("WWW-Authenticate", "Retry-After", "DPoP-Nonce")
                .SetPreflightMaxAge(TimeSpan.FromHours(1)));
        }
    }
}
