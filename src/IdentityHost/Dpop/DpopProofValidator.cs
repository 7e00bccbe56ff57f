using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

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
/// window; then the signature, with the key the RFC 7638 thumbprint names.
/// <para>
/// A proof is a JWS with its key inside it, so this checks it with the framework's own primitives (base64url,
/// <see cref="JsonDocument"/>, <see cref="ECDsa"/>/<see cref="RSA"/>) rather than a general JWT library: no issuer,
/// audience or key resolution applies, and the signature is the only cryptographic step. Imported keys are kept by
/// thumbprint in a small bounded table (<see cref="ImportedKeys"/>): a client signs every proof with the same key, so the
/// key import (and, for EC keys, the point-on-curve check) is paid once per key, not once per request. An attacker who
/// sends a new key with every proof gets no further than before: each such proof pays its own import, and the table's
/// size stays bounded.
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

    private const int MaxJtiLength = 256;
    private const int MinRsaBytes = 256, MaxRsaBytes = 512; // 2048 to 4096 bits
    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
    private static readonly JsonDocumentOptions Limits = new() { MaxDepth = 16 };

    /// <summary>Checks <paramref name="proof"/> for a <paramref name="method"/> request to <paramref name="target"/>.</summary>
    public static Task<DpopProofResult> ValidateAsync(string proof, string method, Uri target, DateTimeOffset now,
        TimeSpan lifetime, IReadOnlyCollection<string> algorithms) =>
        Task.FromResult(Validate(proof, method, target, now, lifetime, algorithms));

    /// <inheritdoc cref="ValidateAsync"/>
    public static DpopProofResult Validate(string proof, string method, Uri target, DateTimeOffset now,
        TimeSpan lifetime, IReadOnlyCollection<string> algorithms)
    {
        var first = proof.IndexOf('.');
        var second = first < 0 ? -1 : proof.IndexOf('.', first + 1);
        if (proof.Length is 0 or > MaxProofLength || second < 0 || proof.IndexOf('.', second + 1) >= 0)
        {
            return DpopProofResult.Fail("The DPoP proof is not a compact JWS of reasonable size.");
        }

        if (ReadPart(proof.AsSpan(0, first)) is not { } header || ReadPart(proof.AsSpan(first + 1, second - first - 1)) is not { } payload)
        {
            return DpopProofResult.Fail("The DPoP proof's header or payload is not a base64url-encoded JSON object.");
        }

        using (header)
        using (payload)
        {
            if (ReadKey(header.RootElement, algorithms, out var alg, out var keyError) is not { } key)
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

            if (ImportedKeys.Get(key) is not { } verifier)
            {
                return DpopProofResult.Fail($"The DPoP proof's jwk is not a usable public key for {alg} (not a point on the curve, or an unusable modulus).");
            }

            if (!SignatureIsValid(proof, second, alg, verifier))
            {
                return DpopProofResult.Fail("The DPoP proof's signature does not verify with its jwk.");
            }

            return new(new DpopProof(key.Thumbprint, jti, issuedAt, String(claims, "nonce"), String(claims, "ath")), null);
        }
    }

    /// <summary>The public key members of a proof's <c>jwk</c>, decoded, and their RFC 7638 thumbprint.</summary>
    internal sealed record PublicKey(string Thumbprint, bool IsEc, byte[] First, byte[] Second);

    private static PublicKey? ReadKey(JsonElement header, IReadOnlyCollection<string> algorithms, out string alg, out string? error)
    {
        error = null;
        alg = String(header, "alg") ?? "";
        if (String(header, "typ") is not { } typ || !typ.Equals(ProofType, StringComparison.OrdinalIgnoreCase))
        {
            error = $"The DPoP proof's typ must be '{ProofType}'.";
            return null;
        }

        if (!algorithms.Contains(alg))
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

        PublicKey? key;
        if (alg[0] == 'E')
        {
            // RFC 7518 §6.2.1: x and y are the full coordinate length of the curve.
            var (curve, size) = alg == "ES256" ? ("P-256", 32) : ("P-384", 48);
            key = String(jwk, "kty") == "EC" && String(jwk, "crv") == curve &&
                  Decode(String(jwk, "x"), size, size) is { } x && Decode(String(jwk, "y"), size, size) is { } y
                ? new PublicKey(Thumbprint($$"""{"crv":"{{curve}}","kty":"EC","x":"{{String(jwk, "x")}}","y":"{{String(jwk, "y")}}"}"""), true, x, y)
                : null;
        }
        else
        {
            key = String(jwk, "kty") == "RSA" && Decode(String(jwk, "n"), MinRsaBytes, MaxRsaBytes) is { } n && n[0] != 0 &&
                  Decode(String(jwk, "e"), 1, 8) is { } e && (e[^1] & 1) == 1 && (e.Length > 1 ? e[0] != 0 : e[0] >= 3)
                ? new PublicKey(Thumbprint($$"""{"e":"{{String(jwk, "e")}}","kty":"RSA","n":"{{String(jwk, "n")}}"}"""), false, n, e)
                : null;
        }

        if (key is null)
        {
            error = $"The DPoP proof's jwk is not a public key for {alg} (EC keys on the algorithm's curve with full-length coordinates, RSA keys of 2048 to 4096 bits with an odd public exponent of at least 3).";
        }

        return key;
    }

    /// <summary>
    /// RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace. Every member was checked to be
    /// base64url (or a fixed name), so none needs JSON escaping.
    /// </summary>
    private static string Thumbprint(string canonicalJson)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.ASCII.GetBytes(canonicalJson), hash);
        return Base64Url.EncodeToString(hash);
    }

    private static bool SignatureIsValid(string proof, int signatureDot, string alg, AsymmetricAlgorithm verifier)
    {
        var signature = Decode(proof[(signatureDot + 1)..], 1, MaxRsaBytes);
        if (signature is null)
        {
            return false;
        }

        // The signing input is ASCII: both parts were just decoded as base64url.
        Span<byte> input = stackalloc byte[signatureDot];
        Encoding.ASCII.GetBytes(proof.AsSpan(0, signatureDot), input);
        try
        {
            return alg switch
            {
                "ES256" => ((ECDsa)verifier).VerifyData(input, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                "ES384" => ((ECDsa)verifier).VerifyData(input, signature, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                "RS256" => ((RSA)verifier).VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                "PS256" => ((RSA)verifier).VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>
    /// Imported public keys by thumbprint. A thumbprint is a SHA-256 over the key's public members, so a hit is the same
    /// key. At most <see cref="Capacity"/> entries: when full it starts again empty (keys are not disposed, since another
    /// request may be verifying with one; the runtime's finalizers release them).
    /// </summary>
    internal static class ImportedKeys
    {
        public const int Capacity = 4096;
        private static readonly ConcurrentDictionary<string, AsymmetricAlgorithm> Keys = new(StringComparer.Ordinal);

        public static int Count => Keys.Count;

        public static AsymmetricAlgorithm? Get(PublicKey key)
        {
            if (Keys.TryGetValue(key.Thumbprint, out var known))
            {
                return known;
            }

            AsymmetricAlgorithm imported;
            try
            {
                imported = key.IsEc
                    ? ECDsa.Create(new ECParameters
                    {
                        Curve = key.First.Length == 32 ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384,
                        Q = new ECPoint { X = key.First, Y = key.Second },
                    })
                    : RSA.Create(new RSAParameters { Modulus = key.First, Exponent = key.Second });
            }
            catch (CryptographicException)
            {
                return null; // not a point on the curve, an unusable modulus or exponent: fail closed
            }

            if (Keys.Count >= Capacity)
            {
                Keys.Clear();
            }

            return Keys.GetOrAdd(key.Thumbprint, imported);
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

    private static JsonDocument? ReadPart(ReadOnlySpan<char> part)
    {
        if (part.ContainsAnyExcept(Base64UrlAlphabet) || !Base64Url.IsValid(part, out var length) || length == 0)
        {
            return null;
        }

        var bytes = new byte[length];
        if (Base64Url.DecodeFromChars(part, bytes) != length)
        {
            return null;
        }

        try
        {
            var document = JsonDocument.Parse(bytes, Limits);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The base64url alphabet (RFC 4648 §5); JWS parts and JWK members carry no padding and no whitespace.</summary>
    private static readonly SearchValues<char> Base64UrlAlphabet = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>A base64url string (no padding, no whitespace) of <paramref name="min"/> to <paramref name="max"/> bytes, decoded.</summary>
    private static byte[]? Decode(string? value, int min, int max)
    {
        if (value is null || value.Length > (max * 4 + 2) / 3 || value.AsSpan().ContainsAnyExcept(Base64UrlAlphabet) ||
            !Base64Url.IsValid(value, out var length) || length < min || length > max)
        {
            return null;
        }

        var bytes = new byte[length];
        return Base64Url.DecodeFromChars(value, bytes) == length ? bytes : null;
    }

    private static string? String(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
