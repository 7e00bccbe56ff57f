using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IdentityHost.Testing;

/// <summary>
/// A client's DPoP key (ECDSA P-256, ES256) that makes real proofs (RFC 9449 §4.2). Every part can be overridden so tests
/// can make each kind of bad proof; nothing here validates anything.
/// </summary>
public sealed class DpopKey : IDisposable
{
    /// <summary>The token endpoint as discovery advertises it in the tests (the Development issuer).</summary>
    public const string TokenEndpoint = "http://localhost:5001/connect/token";

    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The public JWK, as a proof carries it.</summary>
    public JsonObject PublicJwk
    {
        get
        {
            var parameters = key.ExportParameters(includePrivateParameters: false);
            return new JsonObject
            {
                ["kty"] = "EC", ["crv"] = "P-256",
                ["x"] = Base64Url(parameters.Q.X!), ["y"] = Base64Url(parameters.Q.Y!),
            };
        }
    }

    /// <summary>The JWK with its private part <c>d</c>, which a proof must never carry.</summary>
    public JsonObject PrivateJwk
    {
        get
        {
            var jwk = PublicJwk;
            jwk["d"] = Base64Url(key.ExportParameters(includePrivateParameters: true).D!);
            return jwk;
        }
    }

    /// <summary>RFC 7638 SHA-256 thumbprint: the members in lexical order, no whitespace.</summary>
    public string Thumbprint
    {
        get
        {
            var jwk = PublicJwk;
            var canonical = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{jwk["x"]}\",\"y\":\"{jwk["y"]}\"}}";
            return Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
        }
    }

    /// <summary>A proof for <paramref name="htm"/> <paramref name="htu"/>; <paramref name="edit"/> may change the header
    /// and claims before signing.</summary>
    public string Proof(string htu = TokenEndpoint, string htm = "POST", string? accessToken = null, string? nonce = null,
        Action<JsonObject, JsonObject>? edit = null)
    {
        var header = new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = "ES256", ["jwk"] = PublicJwk };
        var claims = new JsonObject
        {
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["htm"] = htm,
            ["htu"] = htu,
            ["iat"] = Now.ToUnixTimeSeconds(),
        };
        if (accessToken is not null)
        {
            claims["ath"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
        }

        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        edit?.Invoke(header, claims);
        return Sign(header.ToJsonString(), claims.ToJsonString());
    }

    /// <summary>Signs raw header and payload JSON with this key (ES256).</summary>
    public string Sign(string headerJson, string payloadJson)
    {
        var input = Base64Url(Encoding.UTF8.GetBytes(headerJson)) + "." + Base64Url(Encoding.UTF8.GetBytes(payloadJson));
        var signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return input + "." + Base64Url(signature);
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose() => key.Dispose();
}

/// <summary>Token requests carrying DPoP headers.</summary>
public static class DpopRequests
{
    /// <summary>POSTs <paramref name="form"/> to the token endpoint with one <c>DPoP</c> header per proof given.</summary>
    public static async Task<ProtocolResponse> TokenAsync(this TokenClient client, Dictionary<string, string> form, string clientId, string? secret, params string[] proofs)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token");
        if (secret is null)
        {
            form["client_id"] = clientId;
        }
        else
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        }

        foreach (var proof in proofs)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        request.Content = new FormUrlEncodedContent(form);
        return await client.SendAsync(request);
    }

    public static Task<ProtocolResponse> DpopPasswordAsync(this TokenClient client, string username, params string[] proofs) =>
        client.TokenAsync(new() { ["grant_type"] = "password", ["username"] = username, ["password"] = TokenClient.Password, ["scope"] = "offline_access api" },
            "web", null, proofs);

    public static Task<ProtocolResponse> DpopRefreshAsync(this TokenClient client, string refreshToken, string clientId, string? secret, params string[] proofs) =>
        client.TokenAsync(new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken }, clientId, secret, proofs);

    /// <summary>The <c>cnf.jkt</c> of an access token, or null.</summary>
    public static string? BoundKey(string accessToken) =>
        Jwt.Payload(accessToken).TryGetProperty("cnf", out var cnf) && cnf.ValueKind == JsonValueKind.Object && cnf.TryGetProperty("jkt", out var jkt)
            ? jkt.GetString()
            : null;
}
