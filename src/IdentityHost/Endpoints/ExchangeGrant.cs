using System.Security.Claims;
using IdentityHost.Protocol;
using IdentityHost.Storage.Lean;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Endpoints;

/// <summary>
/// The <c>authorization_code</c> and <c>refresh_token</c> grants: a token IdentityHost issued is exchanged for new
/// ones. By the time this runs OpenIddict has validated the token (and the PKCE verifier), checked that it belongs to
/// the calling client, and <see cref="StrictRefreshTokenRedemption"/> has spent it. The user is re-checked against the
/// store: a deleted, administrator-locked or re-stamped user (password change, sign-out everywhere) gets no new tokens;
/// a failed-password lock-out does not end refresh (anyone knowing a user name could trigger it).
/// </summary>
public sealed class ExchangeGrant(
    LeanUserReader userReader,
    UserStanding standing,
    TokenPolicy policy,
    FamilyRevoker families)
{
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest()!;
        var previous = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal ??
            throw new InvalidOperationException("The principal of the presented code or refresh token cannot be retrieved.");
        var what = request.IsAuthorizationCodeGrantType() ? "authorization code" : "refresh token";

        var user = await userReader.FindByIdAsync(previous.GetClaim(Claims.Subject));
        if (user is null || !await standing.CanSignInAsync(user) || Accounts.AdministratorLock.IsLocked(user))
        {
            return ProtocolResults.Forbid(Errors.InvalidGrant, $"The {what} is no longer valid: the user cannot sign in.");
        }

        if (previous.GetClaim(ClaimsFactory.SecurityStampClaim) != UserStanding.SecurityStamp(user))
        {
            // The password changed or the user was signed out everywhere since this family began: end it.
            await families.RevokeAsync(previous.GetAuthorizationId(), FamilyRevocationReason.SignOut, request.ClientId, user.Id);
            return ProtocolResults.Forbid(Errors.InvalidGrant, $"The {what} is no longer valid: the user's credentials changed; sign in again.");
        }

        var principal = new ClaimsPrincipal(ClaimsFactory.RefreshUserIdentity(user, previous));
        principal.SetAuthorizationId(previous.GetAuthorizationId());
        return policy.TryApply(principal, request.ClientId!, previous.GetScopes())
            ? ProtocolResults.SignIn(principal)
            : ProtocolResults.Forbid(Errors.InvalidGrant, "The refresh token has reached its absolute lifetime; sign in again.");
    }
}
