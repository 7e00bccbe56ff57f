using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Protocol;

/// <summary>
/// Replaces OpenIddict's <c>RedeemTokenEntry</c>, which ignores a failed redemption of a refresh token: with it,
/// parallel refreshes of one token all succeed and a failed write leaves the spent token valid. Here the presented
/// token is marked redeemed first (an optimistic-concurrency UPDATE), and only the request that wins gets new tokens.
/// A loser is a replay of a spent token: the whole family (the OpenIddict authorization) is revoked.
/// </summary>
public sealed class StrictRefreshTokenRedemption(
    IOpenIddictTokenManager tokens,
    FamilyRevoker families) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
            .UseScopedHandler<StrictRefreshTokenRedemption>()
            .SetOrder(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        var authentication = context.Transaction.GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!) ??
            throw new InvalidOperationException("The authentication context cannot be found.");

        var (principal, isRefresh) = context.EndpointType switch
        {
            OpenIddictServerEndpointType.Token when context.Request.IsRefreshTokenGrantType() && !context.Options.DisableRollingRefreshTokens
                => (authentication.RefreshTokenPrincipal, true),
            OpenIddictServerEndpointType.Token when context.Request.IsAuthorizationCodeGrantType() => (authentication.AuthorizationCodePrincipal, false),
            OpenIddictServerEndpointType.Token when context.Request.IsDeviceCodeGrantType() => (authentication.DeviceCodePrincipal, false),
            OpenIddictServerEndpointType.EndUserVerification => (authentication.UserCodePrincipal, false),
            _ => (null, false),
        };

        var identifier = principal?.GetTokenId();
        if (string.IsNullOrEmpty(identifier) || await tokens.FindByIdAsync(identifier) is not { } token)
        {
            return;
        }

        if (await tokens.TryRedeemAsync(token))
        {
            return;
        }

        if (isRefresh)
        {
            await families.RevokeAsync(principal!.GetAuthorizationId(), FamilyRevocationReason.Replay, context.ClientId, principal!.GetClaim(Claims.Subject));
            context.Reject(Errors.InvalidGrant, "The refresh token has already been used. Its token family has been revoked; sign in again.");
        }
        else
        {
            context.Reject(Errors.InvalidGrant, "The authorization code or device code has already been redeemed.");
        }
    }
}
