using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHost.Dpop;

/// <summary>A DPoP proof that passed every check of RFC 9449 §4.3 its validator could make on its own.</summary>
/// <param name="Jkt">The RFC 7638 SHA-256 thumbprint of the proof's key, base64url.</param>
/// <param name="Jti">The proof's unique identifier; single use is the caller's job (it needs shared storage).</param>
public sealed record DpopProof(string Jkt, string Jti, DateTimeOffset IssuedAt, string? Nonce, string? Ath);

/// <summary>The proof, or why it is refused (a sentence for <c>error_description</c>).</summary>
public sealed record DpopProofResult(DpopProof? Proof, string? Error)
{
    public static DpopProofResult Fail(string error) => new(null, error);
}

/// <summary>
/// Checks one DPoP proof JWT (RFC 9449 §4.2, §4.3): <c>typ</c> is <c>dpop+jwt</c>, <c>alg</c> an allowed asymmetric
/// algorithm, <c>jwk</c> a public key (no private members) that verifies the signature, <c>htm</c> and <c>htu</c> name
/// this request, <c>iat</c> is within the allowed window, <c>jti</c> present. Parsing and the signature check are
/// Microsoft.IdentityModel's (<see cref="JsonWebTokenHandler"/>, <see cref="JsonWebKey"/>); this class adds only the
/// RFC's rules. It never throws on input: every malformed proof becomes a refusal. Used by IdentityHost's token endpoint
/// and by SampleApi's DPoP scheme (the file is linked into both).
/// </summary>
public static class DpopProofValidator
{
    public const string HeaderName = "DPoP";
    public const string ProofType = "dpop+jwt";

    /// <summary>Longer proofs are refused unread (an RSA-4096 key makes a proof of about 1.5 KB).</summary>
    public const int MaxProofLength = 4096;

    private const int MaxJtiLength = 256;
    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>Checks <paramref name="proof"/> for a <paramref name="method"/> request to <paramref name="target"/>.</summary>
    public static async Task<DpopProofResult> ValidateAsync(string proof, string method, Uri target, DateTimeOffset now,
        TimeSpan lifetime, IReadOnlyCollection<string> algorithms)
    {
        if (proof.Length is 0 or > MaxProofLength || proof.Count(c => c == '.') != 2)
        {
            return DpopProofResult.Fail("The DPoP proof is not a compact JWS of reasonable size.");
        }

        if (ReadPart(proof, 0) is not { } header || ReadPart(proof, 1) is not { } payload)
        {
            return DpopProofResult.Fail("The DPoP proof's header or payload is not a base64url-encoded JSON object.");
        }

        using (header)
        using (payload)
        {
            var key = ReadKey(header.RootElement, algorithms, out var keyError);
            if (key is null)
            {
                return DpopProofResult.Fail(keyError!);
            }

            var claims = payload.RootElement;
            if (String(claims, "jti") is not { Length: > 0 and <= MaxJtiLength } jti)
            {
                return DpopProofResult.Fail("The DPoP proof must carry a jti string of at most 256 characters.");
            }

            if (!string.Equals(String(claims, "htm"), method, StringComparison.Ordinal))
            {
                return DpopProofResult.Fail($"The DPoP proof's htm must be '{method}'.");
            }

            if (!SameTarget(String(claims, "htu"), target))
            {
                return DpopProofResult.Fail($"The DPoP proof's htu must be '{target.GetLeftPart(UriPartial.Path)}'.");
            }

            if (!claims.TryGetProperty("iat", out var iatValue) || iatValue.ValueKind != JsonValueKind.Number ||
                !iatValue.TryGetDouble(out var iat) || !double.IsFinite(iat) || Math.Abs(iat) > 1e11)
            {
                return DpopProofResult.Fail("The DPoP proof must carry a numeric iat.");
            }

            var issuedAt = DateTimeOffset.FromUnixTimeMilliseconds((long)(iat * 1000));
            if (issuedAt < now - lifetime || issuedAt > now + lifetime)
            {
                return DpopProofResult.Fail("The DPoP proof's iat is too far from the server's time.");
            }

            if (!await SignatureIsValidAsync(proof, key, algorithms))
            {
                return DpopProofResult.Fail("The DPoP proof's signature does not verify with its jwk.");
            }

            var jkt = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
            return new(new DpopProof(jkt, jti, issuedAt, String(claims, "nonce"), String(claims, "ath")), null);
        }
    }

    private static JsonWebKey? ReadKey(JsonElement header, IReadOnlyCollection<string> algorithms, out string? error)
    {
        error = null;
        if (String(header, "typ") is not { } typ || !typ.Equals(ProofType, StringComparison.OrdinalIgnoreCase))
        {
            error = $"The DPoP proof's typ must be '{ProofType}'.";
            return null;
        }

        var alg = String(header, "alg");
        if (alg is null || !algorithms.Contains(alg))
        {
            error = $"The DPoP proof's alg must be one of: {string.Join(", ", algorithms)}.";
            return null;
        }

        if (!header.TryGetProperty("jwk", out var jwk) || jwk.ValueKind != JsonValueKind.Object)
        {
            error = "The DPoP proof's header must carry its public key as a jwk object.";
            return null;
        }

        if (PrivateMembers.FirstOrDefault(member => jwk.TryGetProperty(member, out _)) is { } member)
        {
            error = $"The DPoP proof's jwk must be a public key; it carries the private member '{member}'.";
            return null;
        }

        JsonWebKey key;
        try
        {
            key = new JsonWebKey(jwk.GetRawText());
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or JsonException or InvalidOperationException)
        {
            error = "The DPoP proof's jwk is not a valid JSON Web Key.";
            return null;
        }

        var fits = alg[0] == 'E'
            ? key.Kty == "EC" && key.Crv == (alg == "ES256" ? "P-256" : "P-384") && key.X is { Length: > 0 } && key.Y is { Length: > 0 }
            : key.Kty == "RSA" && key.E is { Length: > 0 } && key.N is { Length: >= 342 }; // 342 base64url characters = 2048 bits
        if (!fits)
        {
            error = $"The DPoP proof's jwk is not a public key for {alg} (EC keys on the algorithm's curve, RSA keys of at least 2048 bits).";
            return null;
        }

        return key;
    }

    private static async Task<bool> SignatureIsValidAsync(string proof, JsonWebKey key, IReadOnlyCollection<string> algorithms)
    {
        try
        {
            var result = await Handler.ValidateTokenAsync(proof, new TokenValidationParameters
            {
                IssuerSigningKey = key,
                ValidAlgorithms = algorithms,
                ValidTypes = [ProofType],
                ValidateIssuer = false,
                ValidateAudience = false,
                ValidateLifetime = false,
                RequireExpirationTime = false,
                RequireSignedTokens = true,
                ValidateIssuerSigningKey = false,
            });
            return result.IsValid;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A key that cannot be used (an invalid curve point, a malformed modulus) fails closed.
            return false;
        }
    }

    private static bool SameTarget(string? htu, Uri target)
    {
        // RFC 9449 §4.3: compared without query and fragment, after syntax- and scheme-based normalisation (which Uri does).
        if (htu is null || !Uri.TryCreate(htu, UriKind.Absolute, out var claimed) || claimed.Scheme is not ("http" or "https"))
        {
            return false;
        }

        const UriComponents parts = UriComponents.SchemeAndServer | UriComponents.Path;
        return string.Equals(claimed.GetComponents(parts, UriFormat.UriEscaped), target.GetComponents(parts, UriFormat.UriEscaped), StringComparison.Ordinal);
    }

    private static JsonDocument? ReadPart(string jwt, int index)
    {
        var part = jwt.Split('.')[index];
        try
        {
            var document = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(part), new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }

    private static string? String(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
