using System.Text;
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
/// Checks one DPoP proof JWT (RFC 9449 §4.2, §4.3), top to bottom: a compact JWS of bounded size; header <c>typ</c> is
/// <c>dpop+jwt</c>, <c>alg</c> an allowed asymmetric algorithm, <c>jwk</c> a public key (no private members) of the
/// algorithm's type; claims <c>jti</c>, <c>htm</c> and <c>htu</c> naming this request, <c>iat</c> within the allowed
/// window; then the signature, with the proof's own key.
/// <para>
/// Parsing, the key, its RFC 7638 thumbprint and the signature are Microsoft.IdentityModel's: <see cref="JsonWebToken"/>
/// reads the proof, <see cref="JsonWebKey"/> the key and its thumbprint, <see cref="JsonWebKeyConverter"/> turns it into
/// a security key, and a <see cref="SignatureProvider"/> from a <see cref="CryptoProviderFactory"/> checks the signature.
/// A client signs every proof with the same key, so the converted key is kept by thumbprint and the factory's provider
/// cache finds its provider: the key import (and, for EC keys, the point-on-curve check) is paid once per key, not once
/// per request. Both are bounded (<see cref="KeyCacheSize"/>), so an attacker who sends a new key with every proof pays
/// each import and cannot grow them. This class adds only the RFC's rules. (It used to call
/// <see cref="JsonWebTokenHandler.ValidateTokenAsync(string, TokenValidationParameters)"/> with a new
/// <see cref="JsonWebKey"/> each time, which imported the key per request and built a claims identity nobody here
/// reads: bench/README.md, "DPoP's cost".)
/// </para>
/// It never throws on input: every malformed proof becomes a refusal. Used by IdentityHost's token endpoint and by
/// SampleApi's DPoP scheme (the file is linked into both).
/// </summary>
public static class DpopProofValidator
{
    public const string HeaderName = "DPoP";
    public const string ProofType = "dpop+jwt";

    /// <summary>Longer proofs are refused unread (an RSA-4096 key makes a proof of about 1.5 KB).</summary>
    public const int MaxProofLength = 4096;

    /// <summary>
    /// How many proof keys are kept: converted keys (the table starts again empty when full) and their signature providers
    /// (the factory's cache evicts the least recently used).
    /// </summary>
    public const int KeyCacheSize = 4096;

    private const int MaxJtiLength = 256;
    private const int MinRsaBytes = 256, MaxRsaBytes = 512; // 2048 to 4096 bits
    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    private static readonly CryptoProviderFactory Crypto = new(new InMemoryCryptoProviderCache(new CryptoProviderCacheOptions { SizeLimit = KeyCacheSize }))
    {
        CacheSignatureProviders = true,
    };

    /// <summary>
    /// Proof keys converted to IdentityModel security keys (<see cref="JsonWebKeyConverter"/>), by RFC 7638 thumbprint: a
    /// thumbprint is a SHA-256 over the key's public members, so a hit is the same key. Converting imports the key (and
    /// checks an EC point is on its curve), the expensive part, so it is done once per key. At most
    /// <see cref="KeyCacheSize"/> keys: when full it starts again empty.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SecurityKey> Keys = new(StringComparer.Ordinal);

    /// <summary>How many proof keys are kept now (tests check the bound).</summary>
    internal static int KeptKeys => Keys.Count;

    /// <summary>Checks <paramref name="proof"/> for a <paramref name="method"/> request to <paramref name="target"/>.</summary>
    public static DpopProofResult Validate(string proof, string method, Uri target, DateTimeOffset now,
        TimeSpan lifetime, IReadOnlyCollection<string> algorithms)
    {
        if (proof.Length is 0 or > MaxProofLength || proof.Count(c => c == '.') != 2)
        {
            return DpopProofResult.Fail("The DPoP proof is not a compact JWS of reasonable size.");
        }

        JsonWebToken token;
        try
        {
            token = new JsonWebToken(proof);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or JsonException or FormatException or InvalidOperationException)
        {
            return DpopProofResult.Fail("The DPoP proof's header or payload is not a base64url-encoded JSON object (with registered claims such as iat of their registered types).");
        }

        if (ReadKey(token, algorithms, out var keyError) is not { } key)
        {
            return DpopProofResult.Fail(keyError!);
        }

        if (Claim(token, "jti") is not string { Length: > 0 and <= MaxJtiLength } jti)
        {
            return DpopProofResult.Fail("The DPoP proof must carry a jti string of at most 256 characters.");
        }

        if (!string.Equals(String(Claim(token, "htm")), method, StringComparison.Ordinal))
        {
            return DpopProofResult.Fail($"The DPoP proof's htm must be '{method}'.");
        }

        if (!SameTarget(String(Claim(token, "htu")), target))
        {
            return DpopProofResult.Fail($"The DPoP proof's htu must be '{target.GetLeftPart(UriPartial.Path)}'.");
        }

        if (Number(Claim(token, "iat")) is not { } iat || !double.IsFinite(iat) || Math.Abs(iat) > 1e11)
        {
            return DpopProofResult.Fail("The DPoP proof must carry a numeric iat.");
        }

        var issuedAt = DateTimeOffset.FromUnixTimeMilliseconds((long)(iat * 1000));
        if (issuedAt < now - lifetime || issuedAt > now + lifetime)
        {
            return DpopProofResult.Fail("The DPoP proof's iat is too far from the server's time.");
        }

        var jkt = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
        if (Verify(token, jkt, key) is { } signatureError)
        {
            return DpopProofResult.Fail(signatureError);
        }

        return new(new DpopProof(jkt, jti, issuedAt, String(Claim(token, "nonce")), String(Claim(token, "ath"))), null);
    }

    private static JsonWebKey? ReadKey(JsonWebToken token, IReadOnlyCollection<string> algorithms, out string? error)
    {
        error = null;
        if (!token.TryGetHeaderValue<string>(JwtHeaderParameterNames.Typ, out var typ) || !ProofType.Equals(typ, StringComparison.OrdinalIgnoreCase))
        {
            error = $"The DPoP proof's typ must be '{ProofType}'.";
            return null;
        }

        var alg = token.TryGetHeaderValue<string>(JwtHeaderParameterNames.Alg, out var value) ? value : null;
        if (alg is null || !algorithms.Contains(alg))
        {
            error = $"The DPoP proof's alg must be one of: {string.Join(", ", algorithms)}.";
            return null;
        }

        if (!token.TryGetHeaderValue<JsonElement>(JwtHeaderParameterNames.Jwk, out var jwk) || jwk.ValueKind != JsonValueKind.Object)
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

        // RFC 7518 §6.2.1: EC coordinates are the full length of the curve's field; RSA keys of 2048 to 4096 bits with an
        // odd public exponent of at least 3 (e = 1 would make any "signature" verify).
        bool fits;
        if (alg[0] == 'E')
        {
            var size = alg == "ES256" ? 32 : 48;
            fits = key.Kty == "EC" && key.Crv == (alg == "ES256" ? "P-256" : "P-384") &&
                   Length(key.X) == size && Length(key.Y) == size;
        }
        else
        {
            var n = Decode(key.N);
            var e = Decode(key.E);
            fits = key.Kty == "RSA" && n is { Length: >= MinRsaBytes and <= MaxRsaBytes } && n[0] != 0 &&
                   e is { Length: >= 1 and <= 8 } && (e[^1] & 1) == 1 && (e.Length > 1 ? e[0] != 0 : e[0] >= 3);
        }

        if (!fits)
        {
            error = $"The DPoP proof's jwk is not a public key for {alg} (EC keys on the algorithm's curve with full-length coordinates, RSA keys of 2048 to 4096 bits with an odd public exponent of at least 3).";
            return null;
        }

        return key;
    }

    /// <summary>Null when the signature verifies with the proof's key; otherwise why not.</summary>
    private static string? Verify(JsonWebToken token, string jkt, JsonWebKey jwk)
    {
        SignatureProvider provider;
        try
        {
            if (!Keys.TryGetValue(jkt, out var key))
            {
                if (!JsonWebKeyConverter.TryConvertToSecurityKey(jwk, out key))
                {
                    return $"The DPoP proof's jwk is not a usable public key for {token.Alg}.";
                }

                if (Keys.Count >= KeyCacheSize)
                {
                    Keys.Clear();
                }

                key = Keys.GetOrAdd(jkt, key);
            }

            provider = Crypto.CreateForVerifying(key, token.Alg);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not a point on the curve, an unusable modulus: fail closed.
            return $"The DPoP proof's jwk is not a usable public key for {token.Alg}.";
        }

        try
        {
            var input = Encoding.ASCII.GetBytes(token.EncodedHeader + "." + token.EncodedPayload);
            return Decode(token.EncodedSignature) is { Length: > 0 } signature && provider.Verify(input, signature)
                ? null
                : "The DPoP proof's signature does not verify with its jwk.";
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return "The DPoP proof's signature does not verify with its jwk.";
        }
        finally
        {
            Crypto.ReleaseSignatureProvider(provider);
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

    /// <summary>A payload claim as <see cref="JsonWebToken"/> read it: a string, a number, or another JSON value.</summary>
    private static object? Claim(JsonWebToken token, string name) =>
        token.TryGetPayloadValue<object>(name, out var value) ? value : null;

    private static string? String(object? value) => value as string;

    private static double? Number(object? value) => value switch
    {
        int number => number,
        long number => number,
        double number => number,
        decimal number => (double)number,
        float number => number,
        JsonElement { ValueKind: JsonValueKind.Number } json when json.TryGetDouble(out var number) => number,
        _ => null,
    };

    private static int Length(string? base64Url) => Decode(base64Url)?.Length ?? -1;

    private static byte[]? Decode(string? base64Url)
    {
        if (base64Url is null)
        {
            return null;
        }

        try
        {
            return Base64UrlEncoder.DecodeBytes(base64Url);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
