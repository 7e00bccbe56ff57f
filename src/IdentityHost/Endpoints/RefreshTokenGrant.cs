using Microsoft.AspNetCore;
using System.Security.Claims;
using IdentityHost.Protocol;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Endpoints;

/// <summary>
/// Rotation of a refresh token. By the time this runs OpenIddict has validated the token, checked it belongs to the
/// calling client and (see <see cref="StrictRefreshTokenRedemption"/>) spent it. The user is re-checked against the
/// store: a deleted, locked-out or re-stamped user (password change, sign-out everywhere) gets no new tokens.
/// </summary>
public sealed class RefreshTokenGrant(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    ClaimsFactory claims,
    TokenPolicy policy)
{
    private const string NoLongerValid = "The refresh token is no longer valid.";

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var previous = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal ??
            throw new InvalidOperationException("The refresh token principal cannot be retrieved.");

        var user = await users.FindByIdAsync(previous.GetClaim(Claims.Subject) ?? "");
        if (user is null || !await signIn.CanSignInAsync(user) || await users.IsLockedOutAsync(user) ||
            previous.GetClaim(ClaimsFactory.SecurityStampClaim) != await users.GetSecurityStampAsync(user))
        {
            return ProtocolResults.Forbid(Errors.InvalidGrant, NoLongerValid);
        }

        var principal = new ClaimsPrincipal(await claims.RefreshUserIdentityAsync(user, previous));
        principal.SetAuthorizationId(previous.GetAuthorizationId());
        return policy.TryApply(principal, context.GetOpenIddictServerRequest()!.ClientId!, previous.GetScopes())
            ? ProtocolResults.SignIn(principal)
            : ProtocolResults.Forbid(Errors.InvalidGrant, "The refresh token has reached its absolute lifetime; sign in again.");
    }
}
