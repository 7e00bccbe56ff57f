using System.Security.Claims;
using IdentityHost.Configuration;
using IdentityHost.Http;
using IdentityHost.RefreshTokens;
using IdentityHost.Telemetry;
using IdentityHost.Tokens;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Audit;

/// <summary>
/// The one place security events are raised. Each method (a) writes a structured log event whose <c>EventId</c> and
/// name are the event's (<see cref="AuditEventTypes"/>), (b) records the metric, where there is one, and (c) stores an
/// audit row (<see cref="AuditTrail"/>): queued for frequent events, written at once for rare ones, which must not be
/// lost. The row has the time (the server's <see cref="TimeProvider"/>), client, subject (user id, never a user name),
/// family and session where known, and the IP and user agent of the request being served (the IP after the
/// forwarded-headers rules of <c>IdentityHost:ForwardedHeaders</c>). Never a token, secret or password.
/// Metric attributes carry a client id only when it is a configured client (else <c>unknown</c>) and fixed enums.
/// </summary>
public sealed partial class SecurityEvents(
    AuditTrail trail,
    IdentityHostTelemetry telemetry,
    IHttpContextAccessor http,
    IOptionsMonitor<IdentityHostOptions> settings,
    TimeProvider time,
    ILogger<SecurityEvents> logger)
{
    /// <summary>A new token family (an authorization) was created by a sign-in; queued.</summary>
    public void FamilyCreated(string? familyId, string? clientId, string? subject, string? sessionId = null)
    {
        logger.LogInformation(AuditEventTypes.FamilyCreated, "Audit {AuditType}: token family {FamilyId} of subject {Subject} created for client {ClientId}",
            AuditEventTypes.FamilyCreated.Name, familyId, subject, clientId);
        trail.Enqueue(Row(AuditEventTypes.FamilyCreated, clientId, subject, familyId, sessionId));
    }

    /// <summary>A spent or revoked refresh token or authorization code was presented again; written at once.</summary>
    public async Task ReplayDetectedAsync(ClaimsPrincipal principal, string? familyId, string? clientId)
    {
        var isRefreshToken = principal.HasTokenType(TokenTypeIdentifiers.RefreshToken);
        var type = isRefreshToken ? AuditEventTypes.RefreshTokenReplayed : AuditEventTypes.AuthorizationCodeReplayed;
        var subject = principal.GetClaim(Claims.Subject);
        logger.LogWarning(type, "Security {AuditType}: a spent or revoked token of family {FamilyId} (subject {Subject}, client {ClientId}) was presented again",
            type.Name, familyId, subject, clientId);
        if (isRefreshToken && telemetry.RefreshReplays.Enabled)
        {
            telemetry.RefreshReplays.Add(1, new KeyValuePair<string, object?>("client_id", ClientTag(clientId)));
        }

        await trail.WriteNowAsync(Row(type, clientId, subject, familyId, principal.GetClaim(ClaimsFactory.SessionClaim),
            $"token_id={principal.GetTokenId()}"));
    }

    /// <summary>A token family ended, for <paramref name="reason"/>; written at once.</summary>
    public async Task FamilyRevokedAsync(string familyId, FamilyRevocationReason reason, string? clientId, string? subject, long tokenCount)
    {
        logger.Log(reason == FamilyRevocationReason.Replay ? LogLevel.Warning : LogLevel.Information, AuditEventTypes.FamilyRevoked,
            "{Event}: revoked token family {FamilyId} of subject {Subject} (client {ClientId}), reason {Reason}; {TokenCount} token(s) revoked",
            reason == FamilyRevocationReason.Replay ? "Security" : "Revocation", familyId, subject, clientId, reason, tokenCount);
        CountFamilies(1, reason, clientId);
        await trail.WriteNowAsync(Row(AuditEventTypes.FamilyRevoked, clientId, subject, familyId, null,
            $"reason={ReasonTag(reason)} tokens={tokenCount}"));
    }

    /// <summary>A client revoked a single token that is not a refresh token (RFC 7009); queued.</summary>
    public void TokenRevoked(ClaimsPrincipal principal, string? clientId)
    {
        var subject = principal.GetClaim(Claims.Subject);
        var familyId = principal.GetAuthorizationId();
        logger.LogInformation(AuditEventTypes.TokenRevoked, "Audit {AuditType}: client {ClientId} revoked token {TokenId} (subject {Subject}, family {FamilyId})",
            AuditEventTypes.TokenRevoked.Name, clientId, principal.GetTokenId(), subject, familyId);
        trail.Enqueue(Row(AuditEventTypes.TokenRevoked, clientId, subject, familyId, null,
            $"token_id={principal.GetTokenId()} token_type={(principal.HasTokenType(TokenTypeIdentifiers.AccessToken) ? TokenTypeHints.AccessToken : principal.GetTokenType())}"));
    }

    /// <summary>Every family of a user ended at once (sign-out everywhere, an administrator's lock); written at once.</summary>
    public async Task SignedOutEverywhereAsync(string subject, FamilyRevocationReason reason, long families, long tokens)
    {
        logger.LogInformation(AuditEventTypes.SignedOutEverywhere,
            "Revocation: signed user {Subject} out everywhere ({Reason}); {AuthorizationCount} famil(ies) and {TokenCount} token(s) revoked",
            subject, reason, families, tokens);
        CountFamilies(families, reason, null);
        await trail.WriteNowAsync(Row(AuditEventTypes.SignedOutEverywhere, null, subject, null, null,
            $"reason={ReasonTag(reason)} families={families} tokens={tokens}"));
    }

    /// <summary>The metric's reason attribute: a fixed set.</summary>
    public static string ReasonTag(FamilyRevocationReason reason) => reason switch
    {
        FamilyRevocationReason.Replay => "replay",
        FamilyRevocationReason.ClientRevocation => "revocation",
        FamilyRevocationReason.SignOut => "end_session",
        FamilyRevocationReason.CredentialsChanged => "credentials_changed",
        FamilyRevocationReason.Administrator => "admin",
        FamilyRevocationReason.SignOutEverywhere => "sign_out_everywhere",
        _ => "other",
    };

    private void CountFamilies(long count, FamilyRevocationReason reason, string? clientId)
    {
        if (count > 0 && telemetry.FamiliesRevoked.Enabled)
        {
            telemetry.FamiliesRevoked.Add(count,
                new KeyValuePair<string, object?>("reason", ReasonTag(reason)),
                new KeyValuePair<string, object?>("client_id", ClientTag(clientId)));
        }
    }

    /// <summary>A configured client's id, else <see cref="IdentityHostTelemetry.UnknownClient"/>: bounded cardinality.</summary>
    private string ClientTag(string? clientId) =>
        clientId is not null && settings.CurrentValue.Clients.ContainsKey(clientId) ? clientId : IdentityHostTelemetry.UnknownClient;

    private AuditEvent Row(EventId type, string? clientId, string? subject, string? familyId, string? sessionId, string? detail = null)
    {
        var request = http.HttpContext;
        return new AuditEvent
        {
            Time = time.GetUtcNow().UtcDateTime,
            Type = type.Name!,
            EventId = type.Id,
            ClientId = AuditEvent.Cap(clientId, AuditEvent.IdLength),
            Subject = AuditEvent.Cap(subject, AuditEvent.IdLength),
            FamilyId = AuditEvent.Cap(familyId, AuditEvent.IdLength),
            SessionId = AuditEvent.Cap(sessionId, AuditEvent.IdLength),
            Ip = AuditEvent.Cap(request?.Connection.RemoteIpAddress?.ToString(), AuditEvent.IpLength),
            UserAgent = AuditEvent.Cap(request?.Request.Headers.UserAgent.ToString(), AuditEvent.UserAgentLength),
            Detail = AuditEvent.Cap(detail, AuditEvent.DetailLength),
        };
    }

    private bool IsFacadeRequest() => http.HttpContext?.Items.ContainsKey(JsonTokenFacade.OriginalPathItem) == true;
}
