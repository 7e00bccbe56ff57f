using System.Security.Claims;
using IdentityHost.Accounts;
using IdentityHost.Audit;
using IdentityHost.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Endpoints;

/// <summary>
/// Resource owner password credentials (legacy, RFC 9700 §2.4): only first-party clients that opt in hold the
/// permission, which OpenIddict checks before this runs. An unknown user, a wrong password and a locked account given
/// a wrong password get the same answer in comparable time (<see cref="PasswordSignIn"/>); wrong passwords count
/// towards Identity's lock-out.
/// </summary>
public sealed class PasswordGrant(
    PasswordSignIn passwords,
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

        var (result, user) = await passwords.CheckAsync(request.Username, request.Password, SignInPath.PasswordGrant, request.ClientId);
        if (result is PasswordCheck.LockedOut or PasswordCheck.LockedByAdministrator)
        {
            logger.LogWarning("Password grant refused for locked user {UserId} (client {ClientId})", user!.Id, request.ClientId);
        }

        switch (result)
        {
            case PasswordCheck.Succeeded:
                var principal = new ClaimsPrincipal(claims.CreateUserIdentity(user!, request.GetScopes()));
                policy.TryApply(principal, request.ClientId!, request.GetScopes());
                return ProtocolResults.SignIn(principal);
            case PasswordCheck.LockedOut:
                return ProtocolResults.Forbid(Errors.InvalidGrant, "The account is temporarily locked after repeated failed sign-in attempts.");
            case PasswordCheck.LockedByAdministrator:
                return ProtocolResults.Forbid(Errors.InvalidGrant, "The account is locked by an administrator.");
            case PasswordCheck.NotAllowed:
                return ProtocolResults.Forbid(Errors.InvalidGrant, "The account is not allowed to sign in.");
            default:
                return ProtocolResults.Forbid(Errors.InvalidGrant, InvalidCredentials);
        }
    }
}
