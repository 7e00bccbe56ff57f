using IdentityHost.RefreshTokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// In place of OpenIddict's <c>RedeemTokenEntry</c> (same order, same filters), which ignores a failed redemption of a
/// refresh token (parallel refreshes of one token would all succeed). This only tells the request's
/// <see cref="Rotation"/> which token the sign-in spends; <see cref="RotationCommit"/> spends it, concurrency-checked,
/// in the transaction that stores its successors.
/// </summary>
public sealed class TokenRedemption(IOpenIddictTokenManager tokens, Rotation rotation) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        // The presented token's principal, as OpenIddict's own handler finds it: from the authentication of the request.
        var authentication = context.Transaction.GetProperty<ProcessAuthenticationContext>(typeof(ProcessAuthenticationContext).FullName!) ??
            throw new InvalidOperationException("The authentication context cannot be found.");

        var principal = context.EndpointType switch
        {
            OpenIddictServerEndpointType.Token when context.Request.IsRefreshTokenGrantType() && !context.Options.DisableRollingRefreshTokens
                => authentication.RefreshTokenPrincipal,
            OpenIddictServerEndpointType.Token when context.Request.IsAuthorizationCodeGrantType() => authentication.AuthorizationCodePrincipal,
            OpenIddictServerEndpointType.Token when context.Request.IsDeviceCodeGrantType() => authentication.DeviceCodePrincipal,
            OpenIddictServerEndpointType.EndUserVerification => authentication.UserCodePrincipal,
            _ => null,
        };

        if (principal?.GetTokenId() is { Length: > 0 } identifier && await tokens.FindByIdAsync(identifier) is Token token)
        {
            rotation.Spend(token, principal);
        }
    }
}
