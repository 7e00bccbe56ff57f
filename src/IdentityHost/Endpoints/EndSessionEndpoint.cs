using System.Text.Json;
using IdentityHost.Hosting;
using IdentityHost.RefreshTokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Endpoints;

/// <summary>
/// <c>GET|POST /connect/endsession</c> (OIDC RP-initiated logout). Ends the browser session and revokes the token
/// families it created, then OpenIddict redirects to the validated <c>post_logout_redirect_uri</c> (matched exactly)
/// or, without one, to the signed-out page.
/// </summary>
public static class EndSessionEndpoint
{
    public static IEndpointRouteBuilder MapEndSessionEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMethods("connect/endsession", [HttpMethods.Get, HttpMethods.Post], HandleAsync).ExcludeFromDescription().DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> HandleAsync(
        HttpContext context, UserManager<IdentityHost.Storage.ApplicationUser> users, IOpenIddictAuthorizationManager authorizations, TokenFamilies families)
    {
        var session = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (session.Succeeded && session.Properties?.GetString(AuthorizeEndpoint.SessionProperty) is { Length: > 0 } sessionId)
        {
            var subject = users.GetUserId(session.Principal!) ?? "";

            // The session's families are listed first and revoked after: the listing streams from the database, and
            // PostgreSQL cannot run the revocation's statements on the connection while that query is still open.
            var sessionFamilies = new List<string?>();
            await foreach (var authorization in authorizations.FindBySubjectAsync(subject))
            {
                var properties = await authorizations.GetPropertiesAsync(authorization);
                if (properties.TryGetValue(AuthorizeEndpoint.SessionProperty, out var value) &&
                    value.ValueKind == JsonValueKind.String && value.GetString() == sessionId &&
                    await authorizations.HasStatusAsync(authorization, Statuses.Valid))
                {
                    sessionFamilies.Add(await authorizations.GetIdAsync(authorization));
                }
            }

            foreach (var family in sessionFamilies)
            {
                await families.RevokeAsync(family, FamilyRevocationReason.SignOut, null, subject);
            }
        }

        await context.SignOutAsync(IdentityConstants.ApplicationScheme);
        return Results.SignOut(new AuthenticationProperties { RedirectUri = InteractiveSignInExtensions.SignedOutPath },
            [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }
}
