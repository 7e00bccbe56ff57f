using System.Collections.Frozen;
using System.Diagnostics;
using IdentityHost.Configuration;
using IdentityHost.Dpop;
using IdentityHost.Hosting;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Telemetry;

/// <summary>
/// Measures every request of the token endpoint (and the JSON facade that maps onto it) from the outside, with no
/// handler in OpenIddict's pipeline: the <c>identityhost.token_request</c> span and, once the response is written, the
/// duration histogram, the tokens issued, refresh rotations and client-authentication failures (also at introspection
/// and revocation), read from the OpenIddict transaction the request leaves behind. Requests refused before OpenIddict
/// (malformed, over the per-IP rate limit) are timed too, by their status. With nothing listening it only calls on.
/// Attribute values come from fixed sets (<see cref="GrantTypeTag"/>, <see cref="OutcomeTag"/>) or the configured
/// client ids (<see cref="ClientTag"/>): nothing a client sends can add a series.
/// </summary>
public sealed class TokenEndpointTelemetry(RequestDelegate next, IdentityHostTelemetry telemetry, IOptionsMonitor<IdentityHostOptions> settings)
{
    public const string Success = "success";
    public const string TokenRequestSpan = "identityhost.token_request";

    private static readonly FrozenSet<string> GrantTypeValues = new[]
    {
        GrantTypes.AuthorizationCode, GrantTypes.ClientCredentials, GrantTypes.DeviceCode, GrantTypes.Password,
        GrantTypes.RefreshToken, GrantTypes.TokenExchange,
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string> ErrorValues = new[]
    {
        Errors.AccessDenied, Errors.AuthorizationPending, Errors.ExpiredToken, Errors.InvalidClient, Errors.InvalidGrant,
        Errors.InvalidRequest, Errors.InvalidScope, Errors.InvalidTarget, Errors.InvalidToken, Errors.ServerError,
        Errors.SlowDown, Errors.TemporarilyUnavailable, Errors.UnauthorizedClient, Errors.UnsupportedGrantType,
        Errors.UnsupportedTokenType, DpopTokenRequests.InvalidDpopProof, DpopTokenRequests.UseDpopNonce,
    }.ToFrozenSet(StringComparer.Ordinal);

    public Task InvokeAsync(HttpContext context) =>
        telemetry.TokenEndpointDuration.Enabled || telemetry.TokensIssued.Enabled || telemetry.RefreshRotations.Enabled ||
        telemetry.ClientAuthenticationFailures.Enabled || IdentityHostTelemetry.ActivitySource.HasListeners()
            ? ObserveAsync(context)
            : next(context);

    /// <summary>The grant type as an attribute: one of the grants OpenIddict knows, else <c>unknown</c>.</summary>
    public static string GrantTypeTag(string? grantType) =>
        grantType is not null && GrantTypeValues.TryGetValue(grantType, out var known) ? known : IdentityHostTelemetry.UnknownClient;

    /// <summary>The outcome as an attribute: <c>success</c>, an error code the server answers with, or <c>other</c>.</summary>
    public static string OutcomeTag(string? error) =>
        error is null ? Success : ErrorValues.TryGetValue(error, out var known) ? known : "other";

    /// <summary>The client id as an attribute: a configured client's id, else <c>unknown</c>.</summary>
    public string ClientTag(string? clientId) =>
        clientId is not null && settings.CurrentValue.Clients.ContainsKey(clientId) ? clientId : IdentityHostTelemetry.UnknownClient;

    private async Task ObserveAsync(HttpContext context)
    {
        var isToken = RateLimitPartitions.Classify(context.Request) != LimitedEndpoint.None;
        var started = Stopwatch.GetTimestamp();
        using var activity = isToken ? IdentityHostTelemetry.ActivitySource.StartActivity(TokenRequestSpan) : null;
        var failed = false;
        try
        {
            await next(context);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            Record(context, isToken, failed, started, activity);
        }
    }

    private void Record(HttpContext context, bool isToken, bool failed, long started, Activity? activity)
    {
        var transaction = context.Features.Get<OpenIddictServerAspNetCoreFeature>()?.Transaction;
        var request = transaction?.Request;
        var response = transaction?.Response;
        if (response?.Error == Errors.InvalidClient)
        {
            ClientAuthenticationFailed(transaction!, request);
        }

        if (!isToken)
        {
            return;
        }

        var grantType = GrantTypeTag(request?.GrantType);
        var outcome = failed ? Errors.ServerError : response is not null ? OutcomeTag(response.Error) : OutcomeOf(context.Response.StatusCode);
        if (telemetry.TokenEndpointDuration.Enabled)
        {
            telemetry.TokenEndpointDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new(IdentityHostTelemetry.Tags.GrantType, grantType), new(IdentityHostTelemetry.Tags.Outcome, outcome));
        }

        var clientId = request is null ? IdentityHostTelemetry.UnknownClient : ClientTag(request.ClientId);
        if (activity is not null)
        {
            activity.SetTag(IdentityHostTelemetry.Tags.GrantType, grantType);
            activity.SetTag(IdentityHostTelemetry.Tags.ClientId, clientId);
            activity.SetTag(IdentityHostTelemetry.Tags.Outcome, outcome);
            if (failed || context.Response.StatusCode >= StatusCodes.Status500InternalServerError)
            {
                activity.SetStatus(ActivityStatusCode.Error, outcome);
            }
        }

        if (outcome == Success && response is not null)
        {
            Issued(grantType, clientId, response);
        }
    }

    private void Issued(string grantType, string clientId, OpenIddictResponse response)
    {
        if (telemetry.TokensIssued.Enabled)
        {
            Count(response.AccessToken, Parameters.AccessToken);
            Count(response.RefreshToken, Parameters.RefreshToken);
            Count(response.IdToken, Parameters.IdToken);
        }

        if (grantType == GrantTypes.RefreshToken && telemetry.RefreshRotations.Enabled)
        {
            telemetry.RefreshRotations.Add(1, new KeyValuePair<string, object?>(IdentityHostTelemetry.Tags.ClientId, clientId));
        }

        void Count(string? token, string tokenType)
        {
            if (token is not null)
            {
                telemetry.TokensIssued.Add(1, new(IdentityHostTelemetry.Tags.GrantType, grantType),
                    new(IdentityHostTelemetry.Tags.ClientId, clientId), new(IdentityHostTelemetry.Tags.TokenType, tokenType));
            }
        }
    }

    /// <summary>
    /// <c>invalid_client</c> at the token, introspection or revocation endpoint, with why, from what the request carried
    /// (never its value) and the client's configuration.
    /// </summary>
    private void ClientAuthenticationFailed(OpenIddictServerTransaction transaction, OpenIddictRequest? request)
    {
        if (!telemetry.ClientAuthenticationFailures.Enabled || transaction.EndpointType is not
            (OpenIddictServerEndpointType.Token or OpenIddictServerEndpointType.Introspection or OpenIddictServerEndpointType.Revocation))
        {
            return;
        }

        var clientId = request?.ClientId;
        var client = clientId is null ? null : settings.CurrentValue.Clients.GetValueOrDefault(clientId);
        var reason = string.IsNullOrEmpty(clientId) ? ClientAuthenticationFailure.MissingClientId
            : client is null ? ClientAuthenticationFailure.UnknownClient
            : string.IsNullOrEmpty(client.Secret) ? request!.ClientSecret is null ? ClientAuthenticationFailure.PublicClient : ClientAuthenticationFailure.UnexpectedSecret
            : request!.ClientSecret is not null ? ClientAuthenticationFailure.InvalidSecret
            : request.ClientAssertion is not null ? ClientAuthenticationFailure.InvalidAssertion
            : ClientAuthenticationFailure.MissingSecret;
        telemetry.ClientAuthenticationFailures.Add(1, new(IdentityHostTelemetry.Tags.ClientId, client is null ? IdentityHostTelemetry.UnknownClient : clientId),
            new(IdentityHostTelemetry.Tags.Reason, reason));
    }

    /// <summary>A request answered before OpenIddict saw it: by the guard (malformed) or the per-IP rate limit.</summary>
    private static string OutcomeOf(int status) => status switch
    {
        StatusCodes.Status429TooManyRequests => Errors.SlowDown,
        >= StatusCodes.Status500InternalServerError => Errors.ServerError,
        >= StatusCodes.Status400BadRequest => Errors.InvalidRequest,
        _ => Success,
    };
}

/// <summary>The <c>reason</c> of <c>identityhost.client_authentication.failures</c>.</summary>
public static class ClientAuthenticationFailure
{
    public const string MissingClientId = "missing_client_id";
    public const string UnknownClient = "unknown_client";
    public const string MissingSecret = "missing_secret";
    public const string InvalidSecret = "invalid_secret";
    public const string InvalidAssertion = "invalid_assertion";
    public const string UnexpectedSecret = "unexpected_secret";
    public const string PublicClient = "public_client";
}
