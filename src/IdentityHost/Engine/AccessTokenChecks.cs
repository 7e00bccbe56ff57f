using IdentityHost.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// Adapters for <see cref="AccessTokenRevocations"/>: JWT access tokens are issued without a row of their own, so
/// OpenIddict's row-based checks (which need the token's row id, <c>oi_tkn_id</c>) skip them.
/// </summary>
public static class AccessTokenChecks
{
    /// <summary>
    /// Right after OpenIddict's <c>ValidateAuthorizationEntry</c>, which has checked the token's family (introspection,
    /// userinfo, revocation): an access token without a row is refused if it was revoked (RFC 7009) or its client
    /// removed.
    /// </summary>
    public sealed class Validate(AccessTokenRevocations revocations) : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public async ValueTask HandleAsync(ValidateTokenContext context)
        {
            if (context.TokenId is not null || context.Principal is not { } principal ||
                !principal.HasTokenType(TokenTypeIdentifiers.AccessToken))
            {
                return;
            }

            if (await revocations.CheckAsync(principal) is { } refusal)
            {
                context.Reject(Errors.InvalidToken, refusal);
            }
        }
    }

    /// <summary>
    /// Right after OpenIddict's <c>Revocation.AttachPrincipal</c>, before its <c>RevokeToken</c> (which revokes the
    /// presented token's row, and refuses a token without one as <c>unsupported_token_type</c>): an access token
    /// without a row gets one, keyed by its <c>jti</c>, for <c>RevokeToken</c> to revoke.
    /// </summary>
    public sealed class PrepareRevocation(AccessTokenRevocations revocations) : IOpenIddictServerHandler<HandleRevocationRequestContext>
    {
        public async ValueTask HandleAsync(HandleRevocationRequestContext context)
        {
            if (context.GenericTokenPrincipal is { } principal && principal.HasTokenType(TokenTypeIdentifiers.AccessToken) &&
                string.IsNullOrEmpty(principal.GetTokenId()))
            {
                await revocations.PrepareRevocationAsync(principal, context.Request.ClientId);
            }
        }
    }
}
