using System.Text.Json;
using IdentityHost.Hosting;
using IdentityHost.RefreshTokens;
using IdentityHost.Storage;
using IdentityHost.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Endpoints;

/// <summary>
/// <c>GET|POST /connect/endsession</c> (OIDC RP-Initiated Logout 1.0), served by the page <c>Pages/Connect/EndSession</c>
/// because it may have to ask the user. A request carrying a valid <c>id_token_hint</c> for the browser's current session
/// (its <c>sub</c> and <c>sid</c>) ends that session at once, and so does one for a browser without a session (there is
/// nothing to end). Any other request only shows a confirmation page: nothing ends until the user posts it with its
/// antiforgery token, so another site cannot sign users out (§2: the OP asks the End-User). Ending a session revokes
/// the token families it created; OpenIddict then redirects to the validated <c>post_logout_redirect_uri</c> (matched
/// exactly, with <c>state</c>) or, without one, to the signed-out page.
/// </summary>
public static class EndSessionEndpoint
{
    /// <summary>The browser's current session (user id and session id), or null when it has none.</summary>
    public static async Task<(string Subject, string SessionId)?> FindSessionAsync(HttpContext context, UserManager<ApplicationUser> users)
    {
        var session = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        return session.Succeeded && users.GetUserId(session.Principal!) is { Length: > 0 } subject
            ? (subject, session.Properties?.GetString(AuthorizeEndpoint.SessionProperty) ?? "")
            : null;
    }

    /// <summary>
    /// True when the request may end the session without asking: there is none, or the <c>id_token_hint</c> (already
    /// validated by OpenIddict: signature, issuer, and the client that owns the <c>post_logout_redirect_uri</c>) was issued
    /// in this very session.
    /// </summary>
    public static async Task<bool> MayEndAtOnceAsync(HttpContext context, (string Subject, string SessionId)? session)
    {
        if (session is not { } current)
        {
            return true;
        }

        var hint = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        return hint is not null && current.SessionId.Length > 0 &&
            string.Equals(hint.GetClaim(Claims.Subject), current.Subject, StringComparison.Ordinal) &&
            string.Equals(hint.GetClaim(ClaimsFactory.SessionClaim), current.SessionId, StringComparison.Ordinal);
    }

    /// <summary>
    /// Revokes the families the session created and signs the browser out; the caller then answers with
    /// <see cref="SignOutProperties"/> on OpenIddict's scheme, which redirects.
    /// </summary>
    public static async Task EndAsync(
        HttpContext context, (string Subject, string SessionId)? session, IOpenIddictAuthorizationManager authorizations, TokenFamilies families)
    {
        if (session is { SessionId.Length: > 0 } current)
        {
            // The session's families are listed first and revoked after: the listing streams from the database, and
            // PostgreSQL cannot run the revocation's statements on the connection while that query is still open.
            var sessionFamilies = new List<string?>();
            await foreach (var authorization in authorizations.FindBySubjectAsync(current.Subject))
            {
                var properties = await authorizations.GetPropertiesAsync(authorization);
                if (properties.TryGetValue(AuthorizeEndpoint.SessionProperty, out var value) &&
                    value.ValueKind == JsonValueKind.String && value.GetString() == current.SessionId &&
                    await authorizations.HasStatusAsync(authorization, Statuses.Valid))
                {
                    sessionFamilies.Add(await authorizations.GetIdAsync(authorization));
                }
            }

            foreach (var family in sessionFamilies)
            {
                await families.RevokeAsync(family, FamilyRevocationReason.SignOut, null, current.Subject);
            }
        }

        await context.SignOutAsync(IdentityConstants.ApplicationScheme);
    }

    /// <summary>Where OpenIddict sends the browser when the request names no <c>post_logout_redirect_uri</c>.</summary>
    public static AuthenticationProperties SignOutProperties => new() { RedirectUri = InteractiveSignInExtensions.SignedOutPath };
}
