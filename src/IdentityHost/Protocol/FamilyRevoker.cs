using OpenIddict.Abstractions;

namespace IdentityHost.Protocol;

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
    public async Task RevokeAsync(string? familyId, string reason, string? clientId, string? subject)
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
        logger.LogWarning("Security: revoked token family {FamilyId} of subject {Subject} (client {ClientId}) because {Reason}; {TokenCount} token(s) revoked",
            familyId, subject, clientId, reason, count);
    }
}
