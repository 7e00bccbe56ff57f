using System.Security.Claims;
using IdentityHost.Tokens;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Endpoints;

/// <summary>
/// Resource owner password credentials (legacy, RFC 9700 §2.4): only first-party clients that opt in hold the
/// permission, which OpenIddict checks before this runs. Wrong passwords count towards Identity's lock-out.
/// </summary>
public sealed class PasswordGrant(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signIn,
    ClaimsFactory claims,
    TokenPolicy policy,
    ILogger<PasswordGrant> logger)
{
    private const string InvalidCredentials = "The username or password is incorrect.";

    public async Task<IResult> HandleAsync(OpenIddictRequest request)
    {
        if (policy.FindDisallowedScope(request.ClientId!, request.GetScopes()) is { } disallowed)
        {
            return ProtocolResults.Forbid(Errors.InvalidScope, $"The client is not allowed to request the '{disallowed}' scope.");
        }

        var user = string.IsNullOrEmpty(request.Username) ? null : await users.FindByNameAsync(request.Username);
        if (user is null || string.IsNullOrEmpty(request.Password))
        {
            return ProtocolResults.Forbid(Errors.InvalidGrant, InvalidCredentials);
        }

        var result = await signIn.CheckPasswordSignInAsync(user, request.Password, lockoutOnFailure: true);
        if (result.IsLockedOut)
        {
            logger.LogWarning("Password grant refused for locked-out user {UserId} (client {ClientId})", user.Id, request.ClientId);
            return ProtocolResults.Forbid(Errors.InvalidGrant, "The account is temporarily locked after repeated failed sign-in attempts.");
        }

        if (result.IsNotAllowed)
        {
            return ProtocolResults.Forbid(Errors.InvalidGrant, "The account is not allowed to sign in.");
        }

        if (!result.Succeeded)
        {
            return ProtocolResults.Forbid(Errors.InvalidGrant, InvalidCredentials);
        }

        var principal = new ClaimsPrincipal(claims.CreateUserIdentity(user));
        policy.TryApply(principal, request.ClientId!, request.GetScopes());
        return ProtocolResults.SignIn(principal);
    }
}
