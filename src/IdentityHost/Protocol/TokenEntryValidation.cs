using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Protocol;

/// <summary>
/// Replaces OpenIddict's <c>ValidateTokenEntry</c>: checks the stored status of every token the server is shown, with
/// IdentityHost's replay rules instead of OpenIddict's (which let a spent refresh token be redeemed again for 30 s,
/// forking the family, and revoke families even from the read-only introspection endpoint).
/// <list type="bullet">
/// <item>At the token endpoint a spent, revoked or otherwise dead refresh token (or authorization code) is a replay:
/// the whole family is revoked and the request fails — except the lost-response retry that
/// <see cref="ReuseLeeway"/> allows.</item>
/// <item>Introspection never revokes anything; revocation accepts a spent refresh token so its family can be revoked.</item>
/// </list>
/// </summary>
public sealed class TokenEntryValidation(IOpenIddictTokenManager tokens, FamilyRevoker families, ReuseLeeway leeway)
    : IOpenIddictServerHandler<ValidateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenIdResolved>()
            .UseScopedHandler<TokenEntryValidation>()
            .SetOrder(OpenIddictServerHandlers.Protection.ValidateTokenEntry.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ValidateTokenContext context)
    {
        var token = await tokens.FindByIdAsync(context.TokenId!) ??
            throw new InvalidOperationException("The token entry resolved earlier in the pipeline cannot be found.");

        if (await tokens.HasStatusAsync(token, Statuses.Valid))
        {
            return;
        }

        var principal = context.Principal ?? throw new InvalidOperationException("The token principal was not resolved.");
        var isRefreshToken = principal.HasTokenType(TokenTypeIdentifiers.RefreshToken);
        var isRedeemed = await tokens.HasStatusAsync(token, Statuses.Redeemed);
        var isCode = principal.HasTokenType(TokenTypeIdentifiers.Private.AuthorizationCode) ||
                     principal.HasTokenType(TokenTypeIdentifiers.Private.DeviceCode);

        switch (context.EndpointType)
        {
            // RFC 7009: a client signing out with a token it already rotated still wants the family gone.
            case OpenIddictServerEndpointType.Revocation when isRefreshToken && isRedeemed:
                return;

            case OpenIddictServerEndpointType.Token when isRefreshToken && isRedeemed && await leeway.TryAcceptRetryAsync(token, context.AuthorizationId):
                return;

            // Replay of a dead refresh token or code (RFC 9700 §4.14.2, RFC 6749 §4.1.2): end the family.
            case OpenIddictServerEndpointType.Token when isRefreshToken || isCode:
                await families.RevokeAsync(context.AuthorizationId, FamilyRevocationReason.Replay, context.Request?.ClientId, principal.GetClaim(Claims.Subject));
                context.Reject(Errors.InvalidToken, isRefreshToken
                    ? "The refresh token is no longer valid: it was already used or revoked. Its token family has been revoked; sign in again."
                    : "The authorization code has already been redeemed. The tokens issued with it have been revoked.");
                return;

            default:
                context.Reject(Errors.InvalidToken, "The token is no longer valid.");
                return;
        }
    }
}
