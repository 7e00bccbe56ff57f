using IdentityHost.RefreshTokens;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;

namespace IdentityHost.Endpoints;

/// <summary>
/// The <c>authorization_code</c> and <c>refresh_token</c> grants: a code or refresh token IdentityHost issued is
/// exchanged for new tokens. OpenIddict has validated the presented token (and the PKCE verifier) and checked that it
/// belongs to the calling client; the refresh-token rules (<see cref="RefreshTokenRules"/>) have checked its stored
/// status. This endpoint asks the rules whether the family continues and with what; the presented token is spent only
/// when the new tokens are stored (<see cref="Rotation"/>), after this returns.
/// </summary>
public sealed class ExchangeGrant(RefreshTokenRules rules)
{
    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest()!;
        var previous = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal ??
            throw new InvalidOperationException("The principal of the presented code or refresh token cannot be retrieved.");

        // A code's scopes were fixed at /connect/authorize; only a refresh may ask for a narrower set (RFC 6749 §6).
        var requested = request.IsRefreshTokenGrantType() ? request.GetScopes() : [];
        var next = await rules.ContinueFamilyAsync(previous, request.ClientId!, requested);
        return next.Principal is { } principal
            ? ProtocolResults.SignIn(principal)
            : ProtocolResults.Forbid(next.Error!, next.Description!);
    }
}
