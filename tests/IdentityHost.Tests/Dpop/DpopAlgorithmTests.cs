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
    public async Task AdvertisedAlgorithm_ProofVerifies_AndATamperedOneDoesNot(string alg)
    {
        var now = DateTimeOffset.UtcNow;
        var (jwk, signer) = KeyFor(alg);
        var header = new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = alg, ["jwk"] = jwk };
        var claims = new JsonObject { ["jti"] = Guid.NewGuid().ToString(), ["htm"] = "POST", ["htu"] = DpopKey.TokenEndpoint, ["iat"] = now.ToUnixTimeSeconds() };
        var input = DpopKey.Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + DpopKey.Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var proof = input + "." + DpopKey.Base64Url(signer(Encoding.ASCII.GetBytes(input)));
        var signature = proof[(proof.LastIndexOf('.') + 1)..];
        var tampered = input + "." + (signature[0] == 'A' ? 'B' : 'A') + signature[1..];

        var result = await DpopProofValidator.ValidateAsync(proof, "POST", Target, now, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms);
        var refused = await DpopProofValidator.ValidateAsync(tampered, "POST", Target, now, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms);

        Assert.True(result.Proof is not null, result.Error);
        Assert.Null(refused.Proof);
        Assert.Contains("signature", refused.Error);
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
