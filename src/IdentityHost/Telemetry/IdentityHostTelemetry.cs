using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IdentityHost.Telemetry;

/// <summary>
/// IdentityHost's own metrics (meter <c>IdentityHost</c>) and spans (activity source <c>IdentityHost</c>), in
/// OpenTelemetry's naming style; the table of names and attributes is in docs/observability.md. Attributes never carry
/// a user name, token or secret; a client id is recorded only for a configured client (anything else is
/// <see cref="UnknownClient"/>, so a stream of made-up client ids cannot grow the number of series).
/// With no listener (no exporter configured) every call is a few field reads: instruments are created once.
/// </summary>
public sealed class IdentityHostTelemetry : IDisposable
{
    public const string Name = "IdentityHost";

    /// <summary>The client id recorded for a client that is not configured (or not given); also an unknown grant type.</summary>
    public const string UnknownClient = "unknown";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter meter;

    public IdentityHostTelemetry(IMeterFactory meters)
    {
        meter = meters.Create(Name);
        TokensIssued = meter.CreateCounter<long>("identityhost.tokens.issued", "{token}",
            "Tokens issued, by grant type, client and token type.");
        RefreshRotations = meter.CreateCounter<long>("identityhost.refresh_token.rotations", "{rotation}",
            "Refresh tokens redeemed for a new pair, by client.");
        RefreshReplays = meter.CreateCounter<long>("identityhost.refresh_token.replays", "{replay}",
            "Spent or revoked refresh tokens presented again (a stolen token), by client.");
        FamiliesRevoked = meter.CreateCounter<long>("identityhost.token_families.revoked", "{family}",
            "Token families revoked, by reason and client.");
        ClientAuthenticationFailures = meter.CreateCounter<long>("identityhost.client_authentication.failures", "{failure}",
            "Client authentication failures, by client and reason.");
        SignIns = meter.CreateCounter<long>("identityhost.sign_ins", "{sign_in}",
            "Password sign-ins, by path and outcome.");
        DpopProofFailures = meter.CreateCounter<long>("identityhost.dpop.proof_failures", "{failure}",
            "Refused DPoP proofs at the token endpoint, by reason.");
        RateLimitRejections = meter.CreateCounter<long>("identityhost.rate_limit.rejections", "{request}",
            "Requests refused by a rate limit, by policy.");
        TokenEndpointDuration = meter.CreateHistogram<double>("identityhost.token_endpoint.duration", "s",
            "Time to answer a token request, by grant type and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    }

    public Counter<long> TokensIssued { get; }

    public Counter<long> RefreshRotations { get; }

    public Counter<long> RefreshReplays { get; }

    public Counter<long> FamiliesRevoked { get; }

    public Counter<long> ClientAuthenticationFailures { get; }

    public Counter<long> SignIns { get; }

    public Counter<long> DpopProofFailures { get; }

    public Counter<long> RateLimitRejections { get; }

    public Histogram<double> TokenEndpointDuration { get; }

    /// <summary>A refused DPoP proof; <paramref name="reason"/> is one of <see cref="DpopFailure"/>.</summary>
    public void CountDpopFailure(string reason)
    {
        if (DpopProofFailures.Enabled)
        {
            DpopProofFailures.Add(1, new KeyValuePair<string, object?>(Tags.Reason, reason));
        }
    }

    /// <summary>A request refused by a rate limit; <paramref name="policy"/> is one of <see cref="RateLimitPolicy"/>.</summary>
    public void CountRateLimitRejection(string policy)
    {
        if (RateLimitRejections.Enabled)
        {
            RateLimitRejections.Add(1, new KeyValuePair<string, object?>(Tags.Policy, policy));
        }
    }

    public void Dispose() => meter.Dispose();

    /// <summary>Attribute names (docs/observability.md): plain snake_case, the same on metrics and spans.</summary>
    public static class Tags
    {
        public const string GrantType = "grant_type";
        public const string ClientId = "client_id";
        public const string TokenType = "token_type";
        public const string Outcome = "outcome";
        public const string Reason = "reason";
        public const string Policy = "policy";
    }

    /// <summary>The <c>reason</c> of <c>identityhost.dpop.proof_failures</c>.</summary>
    public static class DpopFailure
    {
        /// <summary>The client must send a proof and sent none.</summary>
        public const string Missing = "missing";

        /// <summary>More than one DPoP header.</summary>
        public const string Multiple = "multiple";

        /// <summary>The proof failed a check of RFC 9449 §4.3 (signature, typ, alg, htm, htu, iat, ...).</summary>
        public const string Invalid = "invalid";

        /// <summary>The server requires a nonce and the proof had none or a stale one.</summary>
        public const string Nonce = "nonce";

        /// <summary>The proof's jti was seen before.</summary>
        public const string Replayed = "replayed";

        /// <summary>A refresh token bound to a key came without a proof of that key.</summary>
        public const string KeyMismatch = "key_mismatch";
    }

    /// <summary>The <c>policy</c> of <c>identityhost.rate_limit.rejections</c>, after the settings under IdentityHost:RateLimits.</summary>
    public static class RateLimitPolicy
    {
        /// <summary><c>Token:PerIp</c>: the token endpoint and the JSON facade, per remote IP, before anything is read.</summary>
        public const string PerIp = "per_ip";

        /// <summary><c>Token:PerClient</c>: an authenticated confidential client.</summary>
        public const string PerClient = "per_client";

        /// <summary><c>Token:PerPublicClientAndIp</c>: a public client per IP.</summary>
        public const string PerPublicClientAndIp = "per_public_client_and_ip";

        /// <summary><c>Login</c>: password sign-ins per IP and per user name (password grant, facade, login page).</summary>
        public const string SignIn = "sign_in";
    }
}
