using OpenIddict.Abstractions;

namespace IdentityHost.Protocol;

public enum FamilyRevocationReason
{
    /// <summary>A spent or revoked token of the family was presented again: a security event.</summary>
    Replay,

    /// <summary>A client revoked one of the family's refresh tokens (RFC 7009).</summary>
    ClientRevocation,

    /// <summary>The user signed out of the browser session that created the family.</summary>
    SignOut,
}

/// <summary>
/// Revokes a token family: the OpenIddict authorization every token of one sign-in descends from, and each of its
/// tokens. Revoking the authorization row too matters: a successor issued by a request still in flight is attached to
/// it, and OpenIddict refuses any token whose authorization is no longer valid (refresh and introspection alike).
/// </summary>
public sealed class FamilyRevoker(
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    ILogger<FamilyRevoker> logger)
{
    public async Task RevokeAsync(string? familyId, FamilyRevocationReason reason, string? clientId, string? subject)
    {
        if (string.IsNullOrEmpty(familyId))
        {
            return;
        }

        if (await authorizations.FindByIdAsync(familyId) is { } authorization)
        {
            await authorizations.TryRevokeAsync(authorization);
        }

        var count = await tokens.RevokeByAuthorizationIdAsync(familyId);
        logger.Log(reason == FamilyRevocationReason.Replay ? LogLevel.Warning : LogLevel.Information,
            "{Event}: revoked token family {FamilyId} of subject {Subject} (client {ClientId}), reason {Reason}; {TokenCount} token(s) revoked",
            reason == FamilyRevocationReason.Replay ? "Security" : "Revocation", familyId, subject, clientId, reason, count);
    }
}
