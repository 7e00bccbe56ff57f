using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Protocol;

/// <summary>
/// RFC 7009 §2.1: revoking a refresh token also invalidates the tokens of the same grant. After OpenIddict revokes the
/// presented refresh token, the rest of its family goes too. Revoking an access token revokes only that token.
/// </summary>
public sealed class FamilyRevocationOnRevoke(FamilyRevoker families) : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
            .UseScopedHandler<FamilyRevocationOnRevoke>()
            .SetOrder(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        var principal = context.GenericTokenPrincipal;
        if (principal is not null && principal.HasTokenType(TokenTypeIdentifiers.RefreshToken))
        {
            await families.RevokeAsync(principal.GetAuthorizationId(), FamilyRevocationReason.ClientRevocation, context.Request.ClientId, principal.GetClaim(Claims.Subject));
        }
    }
}
