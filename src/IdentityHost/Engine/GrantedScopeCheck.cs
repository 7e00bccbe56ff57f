using IdentityHost.RefreshTokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// In place of OpenIddict's <c>Exchange.ValidateGrantedScopes</c> (same order, same filters): a refresh asking for a
/// scope its token was not granted is refused with <c>invalid_scope</c>, as RFC 6749 §5.2 names it (OpenIddict answers
/// <c>invalid_grant</c>). The rule is <see cref="RefreshTokenRules.CheckRequestedScopes"/>; nothing is spent.
/// </summary>
public sealed class GrantedScopeCheck : IOpenIddictServerHandler<ValidateTokenRequestContext>
{
    public ValueTask HandleAsync(ValidateTokenRequestContext context)
    {
        if (!string.IsNullOrEmpty(context.Request.Scope) && context.Request.IsRefreshTokenGrantType() &&
            context.RefreshTokenPrincipal is { } principal &&
            RefreshTokenRules.CheckRequestedScopes(principal, context.Request.GetScopes()) is { } refusal)
        {
            context.Reject(Errors.InvalidScope, refusal);
        }

        return ValueTask.CompletedTask;
    }
}
