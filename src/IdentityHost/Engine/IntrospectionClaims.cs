using System.Security.Claims;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// RFC 7662 §2.2: the answer about an active token carries <c>scope</c> for both parties the token concerns, the client
/// it was issued to and the resource servers in its audience. OpenIddict (7.8, 7.9) gives every caller it lets through
/// <c>iss</c>, <c>sub</c>, <c>client_id</c>, <c>iat</c>, <c>exp</c>, <c>token_type</c> and <c>cnf</c>
/// (<c>AttachMetadataClaims</c>), but <c>scope</c> only to a caller in the token's audience (<c>AttachApplicationClaims</c>),
/// so the token's own client never learnt what it was granted. This adds the granted scopes when a confidential caller is
/// the token's client (its presenter or <c>client_id</c>) or in its audience; any other caller gets what OpenIddict gives.
/// It only reads the token.
/// </summary>
public sealed class IntrospectionClaims(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<HandleIntrospectionRequestContext>
{
    public async ValueTask HandleAsync(HandleIntrospectionRequestContext context)
    {
        var principal = context.GenericTokenPrincipal;
        var caller = context.Request.ClientId;

        // An audience caller already has them from AttachApplicationClaims.
        if (principal is null || string.IsNullOrEmpty(caller) || context.Scopes.Count > 0)
        {
            return;
        }

        if (!IsIssuedTo(principal, caller) && !principal.HasAudience(caller))
        {
            return;
        }

        // As AttachApplicationClaims: only a client that proved who it is (confidential) learns the grant.
        if (await applications.FindByClientIdAsync(caller, context.CancellationToken) is not { } application ||
            !await applications.HasClientTypeAsync(application, ClientTypes.Confidential, context.CancellationToken))
        {
            return;
        }

        context.Scopes.UnionWith(principal.GetScopes());
    }

    private static bool IsIssuedTo(ClaimsPrincipal principal, string clientId) =>
        principal.HasPresenter(clientId) || string.Equals(principal.GetClaim(Claims.ClientId), clientId, StringComparison.Ordinal);
}
