using Microsoft.Extensions.Options;
using SampleApi.Configuration;

namespace SampleApi.Endpoints;

/// <summary>
/// The sample SPA in wwwroot (plain static files, nothing to build) and its configuration: the issuer it signs in
/// with, as client <c>spa</c>, and redirect URIs on this API's own origin.
/// </summary>
public static class SpaEndpoints
{
    public const string ClientId = "spa";
    public const string Scope = "openid profile offline_access api api.write";

    public static WebApplication MapSpa(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapGet("/spa-config.json", (HttpRequest request, IOptions<SampleApiOptions> options) =>
        {
            var origin = $"{request.Scheme}://{request.Host}";
            return Results.Ok(new
            {
                authority = options.Value.Authority.AbsoluteUri,
                clientId = ClientId,
                scope = Scope,
                redirectUri = origin + "/callback.html",
                postLogoutRedirectUri = origin + "/",
            });
        });
        return app;
    }
}
