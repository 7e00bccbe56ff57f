using IdentityHost.Audit;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;

namespace IdentityHost.RefreshTokens;

/// <summary>Why a token family ends; logged with it (a replay as a security warning).</summary>
public enum FamilyRevocationReason
{
    /// <summary>A spent or revoked token of the family was presented again (RFC 9700 §4.14.2): a security event.</summary>
    Replay,

    /// <summary>A client revoked one of the family's refresh tokens (RFC 7009 §2.1).</summary>
    ClientRevocation,

    /// <summary>The user signed out of the browser session that created the family.</summary>
    SignOut,

    /// <summary>The user's credentials changed (password change, sign-out everywhere, administrator lock) since the family began.</summary>
    CredentialsChanged,

    /// <summary>An administrator ended the family (<c>-- sessions revoke</c>) or locked the user (<c>-- users lock</c>).</summary>
    Administrator,

    /// <summary>The user was signed out everywhere (<c>-- revoke --user</c>).</summary>
    SignOutEverywhere,
}

/// <summary>
/// A token family is every token descended from one sign-in: one OpenIddict authorization and its tokens. This is the
/// one place a family ends (<see cref="RevokeAsync"/>), whoever asks: a replay at the token endpoint, a lost rotation
/// race, an RFC 7009 revocation, a changed security stamp, the end of a browser session. <see cref="RevokeAllAsync"/>
/// ends every family of a user at once (sign-out everywhere).
/// </summary>
/// <remarks>
/// The authorization row is revoked as well as its tokens: a successor issued by a request still in flight is attached
/// to it, and OpenIddict refuses any token whose authorization is no longer valid (refresh and introspection alike).
/// </remarks>
public sealed class TokenFamilies(
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    UserManager<ApplicationUser> users,
    SecurityEvents events)
{
    /// <summary>Ends the family; returns how many of its tokens were revoked now.</summary>
    public async Task<long> RevokeAsync(string? familyId, FamilyRevocationReason reason, string? clientId, string? subject)
    {
        if (string.IsNullOrEmpty(familyId))
        {
            return 0;
        }

        var wasValid = false;
        if (await authorizations.FindByIdAsync(familyId) is { } authorization)
        {
            wasValid = await authorizations.HasStatusAsync(authorization, OpenIddictConstants.Statuses.Valid);
            await authorizations.TryRevokeAsync(authorization);
        }

        var count = await tokens.RevokeByAuthorizationIdAsync(familyId);
        if (wasValid || count > 0)
        {
            // A security event only when a family really ended now, not for a token of a family already ended.
            await events.FamilyRevokedAsync(familyId, reason, clientId, subject, count);
        }

        return count;
    }

    /// <summary>
    /// Signs a user out on every device at once (what devise-jwt does by rotating a per-user <c>jti</c>): every family
    /// and token of the user is revoked, and the security stamp is renewed so that browser sessions and any token
    /// minted before this moment fail their next check.
    /// </summary>
    public async Task<(long Families, long Tokens)> RevokeAllAsync(ApplicationUser user, FamilyRevocationReason reason = FamilyRevocationReason.SignOutEverywhere, CancellationToken cancellationToken = default)
    {
        var stamp = await users.UpdateSecurityStampAsync(user);
        if (!stamp.Succeeded)
        {
            throw new InvalidOperationException($"Cannot renew the security stamp of user {user.Id}: {string.Join("; ", stamp.Errors.Select(error => error.Description))}");
        }

        var revokedFamilies = await authorizations.RevokeBySubjectAsync(user.Id, cancellationToken);
        var revokedTokens = await tokens.RevokeBySubjectAsync(user.Id, cancellationToken);
        await events.SignedOutEverywhereAsync(user.Id, reason, revokedFamilies, revokedTokens);
        return (revokedFamilies, revokedTokens);
    }
}
