using IdentityHost.Configuration;
using IdentityHost.Dpop;
using IdentityHost.Http;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// Thin adapters plugging the DPoP rules (<see cref="DpopTokenRequests"/>) into OpenIddict's pipeline; they hold no
/// policy. The checked proof travels from the first to the others in the request's transaction.
/// </summary>
public static class DpopHandlers
{
    private const string ProofProperty = "IdentityHost.Dpop.Proof";
    private static readonly OpenIddictParameter Algorithms = new(System.Text.Json.JsonSerializer.SerializeToElement(DpopOptions.SigningAlgorithms));

    private static DpopProof? ProofOf(OpenIddictServerTransaction transaction) => transaction.GetProperty<DpopProof>(ProofProperty);

    /// <summary>Token request, before the client and the presented grant are validated: the DPoP header.</summary>
    public sealed class CheckProof(DpopTokenRequests rules, Telemetry.IdentityHostTelemetry telemetry) : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            var http = context.Transaction.GetHttpRequest() ??
                throw new InvalidOperationException("The DPoP check needs the ASP.NET Core request.");
            var headers = http.Headers[DpopProofValidator.HeaderName];
            var facadePath = http.HttpContext.Items[JsonTokenFacade.OriginalPathItem] is PathString path ? path.Value : null;
            var (proof, refusal) = await rules.CheckAsync(headers, context.Request.ClientId, facadePath, context.CancellationToken);
            if (refusal is not null)
            {
                telemetry.CountDpopFailure(refusal.Reason);
                if (refusal.Nonce is { } nonce)
                {
                    http.HttpContext.Response.Headers[DpopNonces.HeaderName] = nonce;
                }

                context.Reject(refusal.Error, refusal.Description);
                return;
            }

            if (proof is not null)
            {
                context.Transaction.SetProperty(ProofProperty, proof);
            }
        }
    }

    /// <summary>Refresh token presented at the token endpoint, before its stored status is checked (which may revoke).</summary>
    public sealed class CheckRefreshBinding(Telemetry.IdentityHostTelemetry telemetry) : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            if (context.EndpointType == OpenIddictServerEndpointType.Token && context.Principal is { } principal &&
                principal.HasTokenType(TokenTypeIdentifiers.RefreshToken) &&
                DpopTokenRequests.CheckRefreshBinding(principal, ProofOf(context.Transaction)) is { } refusal)
            {
                // OpenIddict answers invalid_token as invalid_grant at the token endpoint.
                telemetry.CountDpopFailure(Telemetry.IdentityHostTelemetry.DpopFailure.KeyMismatch);
                context.Reject(Errors.InvalidToken, refusal);
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Sign-in, once the principals of the new tokens are prepared: bind them to the proof's key.</summary>
    public sealed class BindTokens(DpopTokenRequests rules) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType == OpenIddictServerEndpointType.Token && ProofOf(context.Transaction) is { } proof)
            {
                rules.Bind(proof, context.Request?.ClientId, context.AccessTokenPrincipal, context.RefreshTokenPrincipal);
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Sign-in response: a bound access token is of type DPoP (RFC 9449 §5).</summary>
    public sealed class AnswerTokenType : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType == OpenIddictServerEndpointType.Token && ProofOf(context.Transaction) is not null &&
                context.Response.AccessToken is not null)
            {
                context.Response.TokenType = DpopTokenRequests.TokenType;
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Introspection: a DPoP-bound access token is of type DPoP (RFC 9449 §6.2); OpenIddict already returns its cnf.</summary>
    public sealed class IntrospectionTokenType : IOpenIddictServerHandler<HandleIntrospectionRequestContext>
    {
        public ValueTask HandleAsync(HandleIntrospectionRequestContext context)
        {
            if (context.GenericTokenPrincipal is { } principal && principal.HasTokenType(TokenTypeIdentifiers.AccessToken) &&
                DpopTokenRequests.IsBound(principal))
            {
                context.TokenType = DpopTokenRequests.TokenType;
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Discovery: <c>dpop_signing_alg_values_supported</c> (RFC 9449 §5.1).</summary>
    public sealed class AdvertiseAlgorithms : IOpenIddictServerHandler<HandleConfigurationRequestContext>
    {
        public ValueTask HandleAsync(HandleConfigurationRequestContext context)
        {
            context.Metadata["dpop_signing_alg_values_supported"] = Algorithms;
            return ValueTask.CompletedTask;
        }
    }
}
