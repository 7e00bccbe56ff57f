using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace IdentityHost.Bench;

/// <summary>
/// RFC 9449 proofs for the load tool's <c>--dpop</c> runs: one P-256 key for the run, a new ES256 proof (fresh
/// <c>jti</c> and <c>iat</c>) for every request, as a real client makes them. The client's own cost, not the server's:
/// the server CPU the benchmark reports is the server process's alone.
/// </summary>
internal sealed class DpopProofs : IDisposable
{
    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly string encodedHeader;
    private readonly string htu;

    public DpopProofs(Uri tokenUri)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        var header = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["typ"] = "dpop+jwt",
            ["alg"] = "ES256",
            ["jwk"] = new Dictionary<string, string>
            {
                ["kty"] = "EC",
                ["crv"] = "P-256",
                ["x"] = Base64Url(parameters.Q.X!),
                ["y"] = Base64Url(parameters.Q.Y!),
            },
        });
        encodedHeader = Base64Url(Encoding.UTF8.GetBytes(header));
        htu = tokenUri.GetLeftPart(UriPartial.Path);
    }

    /// <summary>A proof for a POST to the token endpoint, now.</summary>
    public string Next()
    {
        var payload = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["htm"] = "POST",
            ["htu"] = htu,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        });
        var signingInput = encodedHeader + "." + Base64Url(Encoding.UTF8.GetBytes(payload));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose() => key.Dispose();
}
