using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;

namespace IdentityHost.Protocol;

/// <summary>
/// Signs a user out on every device at once (what devise-jwt does by rotating a per-user <c>jti</c>): every family
/// (authorization) and token of the user is revoked, and the security stamp is renewed so that sessions and any token
/// minted before this moment fail their next check.
/// </summary>
public sealed class SignOutEverywhere(
    UserManager<ApplicationUser> users,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    ILogger<SignOutEverywhere> logger)
{
    public async Task<(long Authorizations, long Tokens)> RevokeAsync(ApplicationUser user, CancellationToken cancellationToken = default)
    {
        var stamp = await users.UpdateSecurityStampAsync(user);
        if (!stamp.Succeeded)
        {
            throw new InvalidOperationException($"Cannot renew the security stamp of user {user.Id}: {string.Join("; ", stamp.Errors.Select(error => error.Description))}");
        }

        var revokedAuthorizations = await authorizations.RevokeBySubjectAsync(user.Id, cancellationToken);
        var revokedTokens = await tokens.RevokeBySubjectAsync(user.Id, cancellationToken);
        logger.LogInformation("Revocation: signed user {Subject} out everywhere; {AuthorizationCount} famil(ies) and {TokenCount} token(s) revoked",
            user.Id, revokedAuthorizations, revokedTokens);
        return (revokedAuthorizations, revokedTokens);
    }
}
