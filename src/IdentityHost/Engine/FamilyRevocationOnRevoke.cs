using IdentityHost.Audit;
using IdentityHost.RefreshTokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// RFC 7009 §2.1: revoking a refresh token also invalidates the tokens of the same grant. Runs after OpenIddict's
/// <c>Revocation.RevokeToken</c> has revoked the presented token and ends the rest of its family
/// (<see cref="TokenFamilies"/>). Revoking an access token revokes only that token.
/// </summary>
public sealed class FamilyRevocationOnRevoke(TokenFamilies families, SecurityEvents events) : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        var principal = context.GenericTokenPrincipal;
        if (principal is not null && principal.HasTokenType(TokenTypeIdentifiers.RefreshToken))
        {
            await families.RevokeAsync(principal.GetAuthorizationId(), FamilyRevocationReason.ClientRevocation, context.Request.ClientId, principal.GetClaim(Claims.Subject));
        }
        else if (principal is not null)
        {
            events.TokenRevoked(principal, context.Request.ClientId);
        }
    }
}
