using System.Net;
using IdentityHost.Configuration;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace IdentityHost.Hosting;

public static class ProxyTrustExtensions
{
    /// <summary>ASP.NET Core's forwarded-headers middleware, configured from <see cref="ForwardedHeadersSettings"/>.</summary>
    public static WebApplicationBuilder AddProxyTrust(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ForwardedHeadersSettings>()
            .Bind(builder.Configuration.GetSection(ForwardedHeadersSettings.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ForwardedHeadersSettings>, ForwardedHeadersSettingsValidator>();
        builder.Services.AddSingleton<IConfigureOptions<ForwardedHeadersOptions>, ConfigureForwardedHeaders>();
        return builder;
    }

    /// <summary>First in the pipeline, so everything after it sees the client's IP and scheme.</summary>
    public static WebApplication UseProxyTrust(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value.Enabled)
        {
            return app;
        }

        app.UseForwardedHeaders();

        // A proxy that appends to a client-sent X-Forwarded-Proto can hand us any scheme; OpenIddict then no longer
        // recognises its endpoints (an ftp: URI has no query), so anything but http(s) stops here.
        app.Use((context, next) =>
        {
            if (context.Request.Scheme.Equals(Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase) ||
                context.Request.Scheme.Equals(Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return context.Response.WriteAsync("X-Forwarded-Proto must be http or https.", context.RequestAborted);
        });
        return app;
    }

    private sealed class ConfigureForwardedHeaders(IOptions<ForwardedHeadersSettings> settings) : IConfigureOptions<ForwardedHeadersOptions>
    {
        public void Configure(ForwardedHeadersOptions options)
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var proxy in settings.Value.KnownProxies)
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in settings.Value.KnownNetworks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        }
    }
}
