using IdentityHost.RefreshTokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// In place of OpenIddict's <c>Protection.ValidateTokenEntry</c> (same order, same filters): asks
/// <see cref="RefreshTokenRules.CheckStoredStatusAsync"/> whether the stored entry of a presented token may be used.
/// OpenIddict's own would let a spent refresh token be redeemed again for 30 s and revoke families from the read-only
/// introspection endpoint. Everything else OpenIddict's handler checks (the entry exists, its authorization is valid)
/// is done by OpenIddict's other handlers, which stay; see ARCHITECTURE.md for the guard.
/// </summary>
public sealed class TokenStatusCheck(IOpenIddictTokenManager tokens, RefreshTokenRules rules) : IOpenIddictServerHandler<ValidateTokenContext>
{
    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        var token = await tokens.FindByIdAsync(context.TokenId!) ??
            throw new InvalidOperationException("The token entry resolved earlier in the pipeline cannot be found.");
        var principal = context.Principal ?? throw new InvalidOperationException("The token principal was not resolved.");

        var where = context.EndpointType switch
        {
            OpenIddictServerEndpointType.Token => RefreshTokenRules.Presented.TokenRequest,
            OpenIddictServerEndpointType.Revocation => RefreshTokenRules.Presented.Revocation,
            _ => RefreshTokenRules.Presented.Other,
        };

        if (await rules.CheckStoredStatusAsync(token, principal, context.AuthorizationId, where, context.Request?.ClientId) is { } refusal)
        {
            // OpenIddict turns invalid_token into invalid_grant at the token endpoint.
            context.Reject(Errors.InvalidToken, refusal);
        }
    }
}
