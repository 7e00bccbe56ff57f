using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityHost.Dpop;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using SampleApi.Configuration;

namespace SampleApi.Hosting;

/// <summary>Why a request's token or proof was refused: the RFC 6750 / RFC 9449 error and the scheme to challenge with.</summary>
public sealed record DpopFailure(string Scheme, string Error, string Description);

/// <summary>
/// The <c>DPoP</c> authentication scheme beside <c>Bearer</c> (RFC 9449 §7), for both validation modes: they validate
/// the access token as before and then ask <see cref="Check"/> whether the way it was presented fits its binding.
/// A DPoP-bound token (<c>cnf.jkt</c>) needs <c>Authorization: DPoP</c> and a proof for this request (<c>htm</c>,
/// <c>htu</c>, <c>ath</c>, fresh <c>iat</c>, unused <c>jti</c>) made with the bound key; an unbound token keeps
/// working with <c>Bearer</c>.
/// </summary>
public sealed class DpopResourceCheck(TimeProvider time, IOptions<SampleApiOptions> settings)
{
    public const string Scheme = "DPoP";
    public const string InvalidDpopProof = "invalid_dpop_proof";
    public const string InvalidToken = "invalid_token";
    private const int MaxRememberedProofs = 100_000;
    private const string FailureItem = "SampleApi.Dpop.Failure";
    private const string SchemeItem = "SampleApi.Dpop.Scheme";
    private static readonly string[] Algorithms = ["ES256", "ES384", "RS256", "PS256"];

    /// <summary>The <c>WWW-Authenticate</c> value of a DPoP challenge (RFC 9449 §7.1).</summary>
    public static string Challenge(string? error, string? description) => error is null
        ? $"DPoP algs=\"{string.Join(' ', Algorithms)}\""
        : $"DPoP error=\"{error}\", error_description=\"{description}\", algs=\"{string.Join(' ', Algorithms)}\"";

    // jti -> when it may be forgotten (unix seconds); bounded, swept when full.
    private readonly ConcurrentDictionary<string, long> seen = new(StringComparer.Ordinal);

    /// <summary>The token of <c>Authorization: Bearer …</c> or <c>Authorization: DPoP …</c>; remembers which scheme was used.</summary>
    public static string? ReadToken(HttpContext context)
    {
        string? authorization = context.Request.Headers.Authorization;
        foreach (var scheme in (string[])["Bearer", Scheme])
        {
            if (authorization is not null && authorization.Length > scheme.Length + 1 &&
                authorization.StartsWith(scheme + " ", StringComparison.OrdinalIgnoreCase))
            {
                context.Items[SchemeItem] = scheme;
                var token = authorization[(scheme.Length + 1)..].Trim();
                return token.Length == 0 ? null : token;
            }
        }

        return null;
    }

    /// <summary>The refusal recorded for this request, if the DPoP rules refused it.</summary>
    public static DpopFailure? FailureOf(HttpContext context) => context.Items[FailureItem] as DpopFailure;

    /// <summary>Whether the request presented its token with the DPoP scheme.</summary>
    public static bool UsedDpop(HttpContext context) => context.Items[SchemeItem] as string == Scheme;

    /// <summary>The <c>jkt</c> of a <c>cnf</c> claim's JSON, or null.</summary>
    public static string? JktOf(string? cnf)
    {
        if (string.IsNullOrEmpty(cnf))
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(cnf);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("jkt", out var jkt) &&
                   jkt.ValueKind == JsonValueKind.String ? jkt.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Null when <paramref name="token"/> (already validated, bound to <paramref name="boundJkt"/> or not) may be used the
    /// way this request presents it; otherwise the refusal, also recorded for the challenge.
    /// </summary>
    public DpopFailure? Check(HttpContext context, string token, string? boundJkt)
    {
        var failure = FindFailure(context, token, boundJkt);
        if (failure is not null)
        {
            context.Items[FailureItem] = failure;
        }

        return failure;
    }

    private DpopFailure? FindFailure(HttpContext context, string token, string? boundJkt)
    {
        if (!UsedDpop(context))
        {
            return boundJkt is null
                ? null
                : new("Bearer", InvalidToken, "The access token is DPoP-bound: present it with the DPoP scheme and a proof.");
        }

        if (boundJkt is null)
        {
            return new(Scheme, InvalidToken, "The access token is not DPoP-bound: present it with the Bearer scheme.");
        }

        var headers = context.Request.Headers[DpopProofValidator.HeaderName];
        if (headers.Count != 1)
        {
            return new(Scheme, InvalidDpopProof, "The request must carry exactly one DPoP proof header.");
        }

        var request = context.Request;
        var target = new Uri($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}");
        var now = time.GetUtcNow();
        var lifetime = settings.Value.DpopProofLifetime;
        var result = DpopProofValidator.Validate(headers[0] ?? "", request.Method, target, now, lifetime, Algorithms);
        if (result.Proof is not { } proof)
        {
            return new(Scheme, InvalidDpopProof, result.Error!);
        }

        var ath = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(token)));
        if (!string.Equals(proof.Ath, ath, StringComparison.Ordinal))
        {
            return new(Scheme, InvalidDpopProof, "The DPoP proof's ath must be the base64url SHA-256 hash of the access token.");
        }

        if (!string.Equals(proof.Jkt, boundJkt, StringComparison.Ordinal))
        {
            return new(Scheme, InvalidDpopProof, "The DPoP proof is not signed with the key the access token is bound to.");
        }

        return TryRemember(proof.Jti, (proof.IssuedAt + lifetime).ToUnixTimeSeconds() + 1, now.ToUnixTimeSeconds())
            ? null
            : new(Scheme, InvalidDpopProof, "The DPoP proof was already used (its jti was seen before).");
    }

    private bool TryRemember(string jti, long forgetAfter, long now)
    {
        if (seen.Count >= MaxRememberedProofs)
        {
            foreach (var (key, expiry) in seen)
            {
                if (expiry < now)
                {
                    seen.TryRemove(key, out _);
                }
            }

            // Still full of live proofs: refuse rather than forget one that could be replayed.
            if (seen.Count >= MaxRememberedProofs)
            {
                return false;
            }
        }

        return seen.TryAdd(jti, forgetAfter);
    }
}
