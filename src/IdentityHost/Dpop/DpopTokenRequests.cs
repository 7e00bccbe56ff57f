using System.Text.Json;
using System.Security.Claims;
using IdentityHost.Configuration;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using DpopFailure = IdentityHost.Telemetry.IdentityHostTelemetry.DpopFailure;

namespace IdentityHost.Dpop;

/// <summary>
/// IdentityHost's DPoP rules at the token endpoint (RFC 9449 §5), in the order a request meets them. The engine handlers
/// (Engine/DpopHandlers) only call these.
/// <list type="number">
/// <item><see cref="CheckAsync"/>: no <c>DPoP</c> header costs nothing (unless the client requires DPoP); more than one, or a
/// proof that fails any check (<see cref="DpopProofValidator"/>, the nonce, single use of its <c>jti</c> across instances),
/// is <c>invalid_dpop_proof</c>.</item>
/// <item><see cref="CheckRefreshBinding"/>: a refresh token bound to a key needs a proof made with that key; otherwise
/// <c>invalid_grant</c>, before the token's status is looked at, so nothing is spent or revoked.</item>
/// <item><see cref="Bind"/>: the new access token carries <c>cnf.jkt</c>; a public client's new refresh token is bound to
/// the key.</item>
/// </list>
/// </summary>
public sealed class DpopTokenRequests(IOptionsMonitor<IdentityHostOptions> options, DpopNonces nonces, DpopReplayCache replays, TimeProvider time)
{
    public const string InvalidDpopProof = "invalid_dpop_proof";
    public const string UseDpopNonce = "use_dpop_nonce";
    public const string TokenType = "DPoP";
    public const string ConfirmationClaim = "cnf";

    /// <summary>The key thumbprint a public client's refresh token is bound to; never leaves the server.</summary>
    public const string BoundKeyClaim = "ih_dpop_jkt";

    /// <summary>
    /// A refusal: the RFC error, its description, why (one of <see cref="Telemetry.IdentityHostTelemetry.DpopFailure"/>,
    /// for metrics), and a fresh nonce to send when the error is use_dpop_nonce.
    /// </summary>
    public sealed record Refusal(string Error, string Description, string Reason, string? Nonce = null);

    /// <summary>Step 1. The valid proof (or null when none was sent and none is required), or why the request is refused.</summary>
    /// <param name="facadePath">The JSON facade's path when the request came through it (its proofs name that URL).</param>
    public async Task<(DpopProof? Proof, Refusal? Refusal)> CheckAsync(IReadOnlyList<string?> headers, string? clientId, string? facadePath, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (headers.Count == 0)
        {
            return clientId is not null && settings.Clients.TryGetValue(clientId, out var client) && client.RequireDpop
                ? (null, new Refusal(InvalidDpopProof, $"The client '{clientId}' must send a DPoP proof with every token request.", DpopFailure.Missing))
                : (null, null);
        }

        if (headers.Count > 1)
        {
            return (null, new Refusal(InvalidDpopProof, "A token request must carry exactly one DPoP header.", DpopFailure.Multiple));
        }

        var now = time.GetUtcNow();
        var lifetime = settings.Dpop.ProofLifetime;
        var result = DpopProofValidator.Validate(headers[0] ?? "", HttpMethods.Post, Endpoint(settings, facadePath ?? "connect/token"), now, lifetime, DpopOptions.SigningAlgorithms);
        if (result.Proof is not { } proof)
        {
            return (null, new Refusal(InvalidDpopProof, result.Error!, DpopFailure.Invalid));
        }

        if (settings.Dpop.RequireNonce && !nonces.IsValid(proof.Nonce))
        {
            return (null, new Refusal(UseDpopNonce, "The DPoP proof must carry the nonce the server provides in the DPoP-Nonce header.", DpopFailure.Nonce, nonces.Issue()));
        }

        // Remembered as long as its iat can pass the window check.
        if (!await replays.TryUseAsync(proof.Jti, proof.IssuedAt + lifetime + TimeSpan.FromSeconds(1), cancellationToken))
        {
            return (null, new Refusal(InvalidDpopProof, "The DPoP proof was already used (its jti was seen before); make a new proof for each request.", DpopFailure.Replayed));
        }

        return (proof, null);
    }

    /// <summary>Step 2. Null when the refresh token may be used with <paramref name="proof"/>; otherwise why not.</summary>
    public static string? CheckRefreshBinding(ClaimsPrincipal refreshToken, DpopProof? proof)
    {
        if (refreshToken.GetClaim(BoundKeyClaim) is not { } bound)
        {
            return null;
        }

        if (proof is null)
        {
            return "The refresh token is bound to a DPoP key: the request must carry a DPoP proof made with that key.";
        }

        return string.Equals(proof.Jkt, bound, StringComparison.Ordinal)
            ? null
            : "The refresh token is bound to another DPoP key than the proof's.";
    }

    /// <summary>Step 3. Binds the tokens being issued to the proof's key.</summary>
    public void Bind(DpopProof proof, string? clientId, ClaimsPrincipal? accessToken, ClaimsPrincipal? refreshToken)
    {
        accessToken?.SetClaim(ConfirmationClaim, JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["jkt"] = proof.Jkt }));

        // A confidential client's refresh tokens stay bound to its client authentication (RFC 9449 §5).
        if (refreshToken is not null && !IsConfidential(clientId))
        {
            refreshToken.SetClaim(BoundKeyClaim, proof.Jkt);
        }
    }

    /// <summary>Whether <paramref name="token"/> (an access token's principal) is bound to a DPoP key: its <c>cnf</c> has a <c>jkt</c>.</summary>
    public static bool IsBound(ClaimsPrincipal token)
    {
        if (token.GetClaim(ConfirmationClaim) is not { Length: > 0 } cnf)
        {
            return false;
        }

        try
        {
            using var json = JsonDocument.Parse(cnf);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("jkt", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>An endpoint's URL under the issuer, as discovery advertises it: what a proof's <c>htu</c> must name.</summary>
    public static Uri Endpoint(IdentityHostOptions settings, string path) =>
        new(settings.Issuer.AbsoluteUri.EndsWith('/') ? settings.Issuer : new Uri(settings.Issuer.AbsoluteUri + "/"), path.TrimStart('/'));

    private bool IsConfidential(string? clientId) =>
        clientId is not null && options.CurrentValue.Clients.TryGetValue(clientId, out var client) && !string.IsNullOrEmpty(client.Secret);
}
