using System.Security.Claims;
using IdentityHost.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Endpoints;

/// <summary>
/// A confidential client acting for itself. There is no user to come back for, so <c>offline_access</c> is dropped
/// from the grant and no refresh token is ever issued.
/// </summary>
public sealed class ClientCredentialsGrant(TokenPolicy policy)
{
    public IResult Handle(OpenIddictRequest request)
    {
        if (policy.FindDisallowedScope(request.ClientId!, request.GetScopes()) is { } disallowed)
        {
            return ProtocolResults.Forbid(Errors.InvalidScope, $"The client is not allowed to request the '{disallowed}' scope.");
        }

        var principal = new ClaimsPrincipal(ClaimsFactory.CreateClientIdentity(request.ClientId!));
        policy.TryApply(principal, request.ClientId!, request.GetScopes().Remove(Scopes.OfflineAccess));
        return ProtocolResults.SignIn(principal);
    }
}
