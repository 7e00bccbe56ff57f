using System.Globalization;
using System.Security.Claims;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Tokens;

/// <summary>
/// Builds the identity behind every token and decides, in one place, which claim goes into which token. Default-deny:
/// a claim without a rule stays server-side (refresh tokens keep it, no issued JWT carries it).
/// </summary>
public sealed class ClaimsFactory(TimeProvider time)
{
    /// <summary>Private claim holding the user's security stamp at sign-in; a changed stamp ends every refresh chain.</summary>
    public const string SecurityStampClaim = "ih_stamp";

    /// <summary>Private claim holding the UTC time of the original sign-in of a token family (Unix seconds).</summary>
    public const string FamilyCreatedClaim = "ih_family_created";

    /// <summary>OIDC session id: the browser session a family was created in (authorization code flow only).</summary>
    public const string SessionClaim = "sid";

    /// <summary>Identity of a user signing in for the first time in a family.</summary>
    public ClaimsIdentity CreateUserIdentity(ApplicationUser user, IReadOnlyCollection<string> scopes, string? sessionId = null)
    {
        var identity = CreateIdentityCore(user, scopes);
        identity.SetClaim(FamilyCreatedClaim, time.GetUtcNow().ToUnixTimeSeconds());
        if (!string.IsNullOrEmpty(sessionId))
        {
            identity.SetClaim(SessionClaim, sessionId);
        }

        return identity;
    }

    /// <summary>
    /// Identity of a user redeeming a code or refresh token: fresh claims from the store; the family's sign-in time,
    /// session and security stamp carried over (a changed stamp is caught by the caller).
    /// </summary>
    public static ClaimsIdentity RefreshUserIdentity(ApplicationUser user, ClaimsPrincipal previous, IReadOnlyCollection<string> scopes)
    {
        var identity = CreateIdentityCore(user, scopes);
        identity.SetClaim(FamilyCreatedClaim, previous.GetClaim(FamilyCreatedClaim));
        identity.SetClaim(SessionClaim, previous.GetClaim(SessionClaim));
        return identity;
    }

    /// <summary>
    /// Identity of a client acting on its own behalf (client_credentials): no user claims; <c>sub</c> is the client id,
    /// as RFC 9068 §2.2 requires a subject and OpenIddict refuses a principal without one.
    /// </summary>
    public static ClaimsIdentity CreateClientIdentity(string clientId)
    {
        var identity = NewIdentity();
        identity.SetClaim(Claims.Subject, clientId);
        return identity;
    }

    /// <summary>When the family of <paramref name="principal"/> first signed in, or null for tokens that predate the claim.</summary>
    public static DateTimeOffset? GetFamilyCreated(ClaimsPrincipal principal) =>
        long.TryParse(principal.GetClaim(FamilyCreatedClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    /// <summary>Routes each claim to the tokens it may appear in, given the scopes granted.</summary>
    public static void SetDestinations(ClaimsPrincipal principal)
    {
        var scopes = principal.GetScopes();
        foreach (var claim in principal.Claims)
        {
            claim.SetDestinations(GetDestinations(claim.Type, scopes));
        }
    }

    private static string[] GetDestinations(string claimType, IReadOnlyCollection<string> scopes) => claimType switch
    {
        Claims.Subject => [Destinations.AccessToken, Destinations.IdentityToken],
        SessionClaim => [Destinations.IdentityToken],
        Claims.Name or Claims.PreferredUsername when scopes.Contains(Scopes.Profile) => [Destinations.IdentityToken],
        Claims.Email or Claims.EmailVerified when scopes.Contains(Scopes.Email) => [Destinations.IdentityToken],
        _ => [],
    };

    private static ClaimsIdentity CreateIdentityCore(ApplicationUser user, IReadOnlyCollection<string> scopes)
    {
        var identity = NewIdentity();
        identity.SetClaim(Claims.Subject, user.Id)
            .SetClaim(SecurityStampClaim, user.SecurityStamp ?? throw new InvalidOperationException("The user has no security stamp."));

        // Profile and e-mail claims only when their scope is granted: they only ever go into an identity token under that
        // scope, and every claim the principal carries is copied, filtered and serialized again on each refresh.
        if (scopes.Contains(Scopes.Profile))
        {
            identity.SetClaim(Claims.Name, user.UserName).SetClaim(Claims.PreferredUsername, user.UserName);
        }

        if (scopes.Contains(Scopes.Email) && !string.IsNullOrEmpty(user.Email))
        {
            identity.SetClaim(Claims.Email, user.Email).SetClaim(Claims.EmailVerified, user.EmailConfirmed);
        }

        return identity;
    }

    private static ClaimsIdentity NewIdentity() =>
        new(OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
}
