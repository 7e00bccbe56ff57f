using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using IdentityHost.Configuration;
using IdentityHost.Dpop;

namespace IdentityHost.Tests.Dpop;

/// <summary>Every advertised algorithm verifies (RFC 9449 §5.1 lists what the server accepts), with real keys.</summary>
public sealed class DpopAlgorithmTests
{
    private static readonly Uri Target = new(DpopKey.TokenEndpoint);

    public static TheoryData<string> Algorithms => new() { "ES256", "ES384", "RS256", "PS256" };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void AdvertisedAlgorithm_ProofVerifies_AndATamperedOneDoesNot(string alg)
    {
        var now = DateTimeOffset.UtcNow;
        var (jwk, signer) = KeyFor(alg);
        var header = new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = alg, ["jwk"] = jwk };
        var claims = new JsonObject { ["jti"] = Guid.NewGuid().ToString(), ["htm"] = "POST", ["htu"] = DpopKey.TokenEndpoint, ["iat"] = now.ToUnixTimeSeconds() };
        var input = DpopKey.Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + DpopKey.Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var proof = input + "." + DpopKey.Base64Url(signer(Encoding.ASCII.GetBytes(input)));
        var signature = proof[(proof.LastIndexOf('.') + 1)..];
        var tampered = input + "." + (signature[0] == 'A' ? 'B' : 'A') + signature[1..];

        var result = DpopProofValidator.Validate(proof, "POST", Target, now, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms);
        var refused = DpopProofValidator.Validate(tampered, "POST", Target, now, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms);

        Assert.True(result.Proof is not null, result.Error);
        Assert.Null(refused.Proof);
        Assert.Contains("signature", refused.Error);
    }

    public static TheoryData<string, string, string> WeakRsaKeys => new()
    {
        { "1024 bits", "1024", "AQAB" },
        { "8192 bits", "8192", "AQAB" },
        { "exponent 1", "2048", "AQ" },
        { "even exponent", "2048", "AQAA" },
    };

    /// <summary>
    /// RSA keys outside 2048–4096 bits or with an exponent that makes every "signature" verify (e = 1) or is not a valid
    /// RSA exponent (even) are refused before any verification, whatever the proof's signature.
    /// </summary>
    [Theory]
    [MemberData(nameof(WeakRsaKeys))]
    public void WeakRsaKey_IsRefused(string why, string bits, string exponent)
    {
        var size = int.Parse(bits, System.Globalization.CultureInfo.InvariantCulture);
        using var rsa = RSA.Create(Math.Min(size, 2048));
        // Generating an 8192-bit key takes most of a minute; a modulus that size is refused before it is ever used.
        var modulus = size > 2048 ? RandomNumberGenerator.GetBytes(size / 8) : rsa.ExportParameters(false).Modulus!;
        modulus[0] |= 0x80;
        var jwk = new JsonObject { ["kty"] = "RSA", ["n"] = DpopKey.Base64Url(modulus), ["e"] = exponent };
        var proof = Proof("RS256", jwk, data => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), DateTimeOffset.UtcNow);

        var result = DpopProofValidator.Validate(proof, "POST", Target, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms);

        Assert.True(result.Proof is null, why);
        Assert.Contains("jwk", result.Error);
    }

    /// <summary>The proof's jkt is the RFC 7638 thumbprint, the same one a client computes (and a bound token's cnf.jkt).</summary>
    [Fact]
    public void Jkt_IsTheRfc7638Thumbprint()
    {
        using var key = new DpopKey();

        var result = DpopProofValidator.Validate(key.Proof(), "POST", Target, key.Now, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms);

        Assert.Equal(key.Thumbprint, result.Proof?.Jkt);
    }

    /// <summary>
    /// Proof keys are kept by thumbprint: an attacker sending a new key with every proof must not grow the table without
    /// bound, every key still verifies after the table starts again, and a key once seen must never verify a signature
    /// made by another key.
    /// </summary>
    [Fact]
    public void KeyTable_StaysBounded_AndAKnownKeyNeverVerifiesAnotherKeysSignature()
    {
        var now = DateTimeOffset.UtcNow;
        // Other test classes may check proofs at the same time, hence the allowance above the bound.
        for (var i = 0; i < DpopProofValidator.KeyCacheSize + 300; i++)
        {
            using var key = new DpopKey { Now = now };
            var accepted = DpopProofValidator.Validate(key.Proof(), "POST", Target, now, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms);
            Assert.Equal(key.Thumbprint, accepted.Proof?.Jkt);
            Assert.InRange(DpopProofValidator.KeptKeys, 0, DpopProofValidator.KeyCacheSize + 100);
        }

        using var known = new DpopKey { Now = now };
        using var other = new DpopKey { Now = now };
        Assert.NotNull(DpopProofValidator.Validate(known.Proof(), "POST", Target, now, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms).Proof);
        var forged = other.Proof(edit: (header, _) => header["jwk"] = known.PublicJwk); // known's key named, other's signature

        var refused = DpopProofValidator.Validate(forged, "POST", Target, now, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms);

        Assert.Null(refused.Proof);
        Assert.Contains("signature", refused.Error);
    }

    private static string Proof(string alg, JsonObject jwk, Func<byte[], byte[]> sign, DateTimeOffset now)
    {
        var header = new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = alg, ["jwk"] = jwk };
        var claims = new JsonObject { ["jti"] = Guid.NewGuid().ToString(), ["htm"] = "POST", ["htu"] = DpopKey.TokenEndpoint, ["iat"] = now.ToUnixTimeSeconds() };
        var input = DpopKey.Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + DpopKey.Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        return input + "." + DpopKey.Base64Url(sign(Encoding.ASCII.GetBytes(input)));
    }

    private static (JsonObject Jwk, Func<byte[], byte[]> Sign) KeyFor(string alg)
    {
        if (alg.StartsWith("ES", StringComparison.Ordinal))
        {
            var ec = ECDsa.Create(alg == "ES256" ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384);
            var q = ec.ExportParameters(false).Q;
            var hash = alg == "ES256" ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA384;
            return (new JsonObject { ["kty"] = "EC", ["crv"] = alg == "ES256" ? "P-256" : "P-384", ["x"] = DpopKey.Base64Url(q.X!), ["y"] = DpopKey.Base64Url(q.Y!) },
                data => ec.SignData(data, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        }

        var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(false);
        var padding = alg == "PS256" ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
        return (new JsonObject { ["kty"] = "RSA", ["n"] = DpopKey.Base64Url(parameters.Modulus!), ["e"] = DpopKey.Base64Url(parameters.Exponent!) },
            data => rsa.SignData(data, HashAlgorithmName.SHA256, padding));
    }
}
