using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Protocol;

/// <summary>
/// Replaces OpenIddict's <c>RedeemTokenEntry</c>, which ignores a failed redemption of a refresh token: with it,
/// parallel refreshes of one token all succeed and a failed write leaves the spent token valid. Here the presented
/// token is recorded as spent by this sign-in and marked redeemed (an optimistic-concurrency UPDATE) in the transaction
/// that stores its successors (<see cref="SingleWriteTokenEntry.Flush"/>): only the request that wins gets new tokens.
/// A loser is a replay of a spent token: the whole family (the OpenIddict authorization) is revoked.
/// </summary>
public sealed class StrictRefreshTokenRedemption(IOpenIddictTokenManager tokens) : IOpenIddictServerHandler<ProcessSignInContext>
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

        // Spent in the same transaction as the new tokens are stored (SingleWriteTokenEntry.Flush): the concurrency-
        // checked write there lets exactly one of several racing requests through and refuses the others.
        SingleWriteTokenEntry.Spend(context.Transaction, (OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken)token, principal!, isRefresh);
    }
}
