using System.Security.Claims;
using IdentityHost.Accounts;
using IdentityHost.Audit;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using IdentityHost.Storage.Stores;
using IdentityHost.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.RefreshTokens;

/// <summary>
/// IdentityHost's refresh-token rules, in the order a refresh meets them. OpenIddict (the engine) has done the protocol
/// part first: it authenticated the client, found the handle's row (stored as a hash), checked the payload, its expiry
/// (an expired token is refused without revoking anything) and that the token belongs to the calling client
/// (RFC 6749 §6). Then:
/// <list type="number">
/// <item><b>Stored status</b> (<see cref="CheckStoredStatusAsync"/>): a valid token goes on. A spent one is a replay
/// (RFC 9700 §4.14.2): the whole family is revoked, unless it is the lost-response retry that
/// <see cref="ReuseLeeway"/> allows. Introspection only reads; RFC 7009 revocation accepts a spent token so its family
/// can still be ended.</item>
/// <item><b>The family continues</b> (<see cref="ContinueFamilyAsync"/>): the user still exists and may sign in
/// (ASP.NET Core Identity's own <see cref="SignInManager{TUser}.CanSignInAsync"/>: required confirmations), and no
/// administrator has locked them; a changed security stamp (password change, sign-out everywhere, administrator lock)
/// ends the family; the scopes are what the family was granted, narrowed by the request and by what the client may
/// have today (asking for more is <c>invalid_scope</c>); the new refresh token's lifetime is the sliding window, never
/// past the family's absolute cap (<see cref="RefreshLifetime"/>).</item>
/// <item><b>Rotation</b> (<see cref="Rotation"/>): the presented token is spent and its successors stored in one
/// transaction; of racing requests exactly one wins, a loser is a replay and ends the family; a database failure
/// changes nothing and asks the client to retry.</item>
/// </list>
/// Families end in one place: <see cref="TokenFamilies"/>. Authorization codes follow the same steps (a replayed code
/// revokes the tokens issued with it, RFC 6749 §4.1.2).
/// </summary>
public sealed class RefreshTokenRules(
    IOpenIddictTokenManager tokens,
    TokenFamilies families,
    ReuseLeeway leeway,
    UserReader users,
    SignInManager<ApplicationUser> identity,
    TokenPolicy policy,
    SecurityEvents events)
{
    public const string ReplayedDescription =
        "The refresh token is no longer valid: it was already used or revoked. Its token family has been revoked; sign in again.";

    public const string ReplayedCodeDescription =
        "The authorization code has already been redeemed. The tokens issued with it have been revoked.";

    /// <summary>Where a stored token is being presented.</summary>
    public enum Presented { TokenRequest, Revocation, Other }

    /// <summary>
    /// Step 1. Null when the token may be used; otherwise why not (answered as <c>invalid_grant</c> at the token
    /// endpoint, <c>invalid_token</c> elsewhere). <paramref name="token"/> is the token's stored entry.
    /// </summary>
    public async Task<string?> CheckStoredStatusAsync(object token, ClaimsPrincipal principal, string? familyId, Presented where, string? clientId)
    {
        if (await tokens.HasStatusAsync(token, Statuses.Valid))
        {
            return null;
        }

        var isRefreshToken = principal.HasTokenType(TokenTypeIdentifiers.RefreshToken);
        var isCode = principal.HasTokenType(TokenTypeIdentifiers.Private.AuthorizationCode) ||
                     principal.HasTokenType(TokenTypeIdentifiers.Private.DeviceCode);
        var isRedeemed = await tokens.HasStatusAsync(token, Statuses.Redeemed);

        switch (where)
        {
            // RFC 7009: a client signing out with a token it already rotated still wants the family gone.
            case Presented.Revocation when isRefreshToken && isRedeemed:
                return null;

            // A client that lost the response to its refresh presents the same token again within the leeway.
            case Presented.TokenRequest when isRefreshToken && isRedeemed && await leeway.TryAcceptRetryAsync(token, familyId):
                return null;

            // Replay of a spent or revoked refresh token or code: end the family.
            case Presented.TokenRequest when isRefreshToken || isCode:
                if (isRedeemed)
                {
                    // A spent token presented again; a token revoked with its family (after a replay, a revocation or a
                    // sign-out) is refused the same way but is no new replay: the device signed out will try it once.
                    await events.ReplayDetectedAsync(principal, familyId, clientId);
                }

                await families.RevokeAsync(familyId, FamilyRevocationReason.Replay, clientId, principal.GetClaim(Claims.Subject));
                return isRefreshToken ? ReplayedDescription : ReplayedCodeDescription;

            default:
                return "The token is no longer valid.";
        }
    }

    /// <summary>
    /// A refresh may keep or narrow its family's scopes, never widen them (RFC 6749 §6): null when
    /// <paramref name="requested"/> is within what <paramref name="previous"/> was granted, else why not, answered as
    /// <c>invalid_scope</c> (§5.2). Checked as soon as the token is validated, before anything is spent.
    /// </summary>
    public static string? CheckRequestedScopes(ClaimsPrincipal previous, IEnumerable<string> requested)
    {
        var granted = previous.GetScopes();
        return requested.FirstOrDefault(scope => !granted.Contains(scope, StringComparer.Ordinal)) is { } widened
            ? $"The '{widened}' scope was not granted to this refresh token; a refresh may only keep or narrow the scopes."
            : null;
    }

    /// <summary>The outcome of step 2: the principal of the new tokens, or an RFC 6749 error.</summary>
    public sealed record Continuation(ClaimsPrincipal? Principal, string? Error = null, string? Description = null);

    /// <summary>
    /// Step 2, for the refresh token or authorization code whose principal is <paramref name="previous"/>, presented by
    /// <paramref name="clientId"/> with the scopes it asks for now (<paramref name="requested"/>, empty for "as before").
    /// </summary>
    public async Task<Continuation> ContinueFamilyAsync(ClaimsPrincipal previous, string clientId, IReadOnlyCollection<string> requested)
    {
        var what = previous.HasTokenType(TokenTypeIdentifiers.RefreshToken) ? "refresh token" : "authorization code";
        var familyId = previous.GetAuthorizationId();

        // The user: still there, allowed to sign in, not locked by an administrator. A lock-out after failed passwords
        // does not count: anyone who knows a user name could otherwise sign that user out everywhere. (An administrator's
        // lock also renews the security stamp; checking the lock too covers a family begun in a browser session before
        // the session's own stamp check caught up.)
        var user = await users.FindByIdAsync(previous.GetClaim(Claims.Subject));
        if (user is null || !await identity.CanSignInAsync(user) || AdministratorLock.IsLocked(user))
        {
            return new(null, Errors.InvalidGrant, $"The {what} is no longer valid: the user cannot sign in.");
        }

        // Credentials changed since the family began (password, sign-out everywhere, administrator lock): end it.
        if (previous.GetClaim(ClaimsFactory.SecurityStampClaim) != await identity.UserManager.GetSecurityStampAsync(user))
        {
            await families.RevokeAsync(familyId, FamilyRevocationReason.CredentialsChanged, clientId, user.Id);
            return new(null, Errors.InvalidGrant, $"The {what} is no longer valid: the user's credentials changed; sign in again.");
        }

        // Scopes (RFC 6749 §6): what the request asks for (never more than granted: see CheckRequestedScopes), else what
        // the family was granted; either way never more than the client may have now.
        if (CheckRequestedScopes(previous, requested) is { } widened)
        {
            return new(null, Errors.InvalidScope, widened);
        }

        var scopes = policy.AllowedNow(clientId, requested.Count > 0 ? requested : previous.GetScopes());

        // Lifetimes: the sliding window, cut at the family's absolute lifetime.
        var principal = new ClaimsPrincipal(ClaimsFactory.RefreshUserIdentity(user, previous, scopes));
        principal.SetAuthorizationId(familyId);
        return policy.TryApply(principal, clientId, scopes)
            ? new(principal)
            : new(null, Errors.InvalidGrant, "The refresh token has reached its absolute lifetime; sign in again.");
    }
}
