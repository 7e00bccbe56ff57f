using System.Net;

namespace IdentityHost.Tests.Dpop;

/// <summary>RFC 9449 at the token endpoint: a valid proof binds the access token; any bad proof is invalid_dpop_proof.</summary>
public sealed class DpopTokenEndpointTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task Discovery_ListsDpopSigningAlgorithms()
    {
        var discovery = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, ".well-known/openid-configuration"));

        var algorithms = discovery.Body.GetProperty("dpop_signing_alg_values_supported").EnumerateArray().Select(value => value.GetString()).ToList();
        Assert.Contains("ES256", algorithms);
        Assert.Contains("RS256", algorithms);
    }

    [Fact]
    public async Task Password_WithProof_IssuesDpopBoundAccessToken()
    {
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };

        var response = await client.DpopPasswordAsync(await factory.CreateUserAsync(), key.Proof());

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("DPoP", response["token_type"]);
        Assert.Equal(key.Thumbprint, DpopRequests.BoundKey(response.AccessToken));
    }

    [Fact]
    public async Task ClientCredentials_WithProof_IssuesDpopBoundAccessToken()
    {
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };

        var response = await client.TokenAsync(new() { ["grant_type"] = "client_credentials", ["scope"] = "api" }, "service", "service-secret", key.Proof());

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("DPoP", response["token_type"]);
        Assert.Equal(key.Thumbprint, DpopRequests.BoundKey(response.AccessToken));
    }

    [Fact]
    public async Task Password_WithoutProof_StaysBearer()
    {
        var response = await client.DpopPasswordAsync(await factory.CreateUserAsync());

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Bearer", response["token_type"]);
        Assert.Null(DpopRequests.BoundKey(response.AccessToken));
    }

    [Fact]
    public async Task JsonFacade_ProofNamingTheFacadeUrl_IssuesBoundToken_AndTheTokenEndpointUrlIsRefused()
    {
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };
        var user = await factory.CreateUserAsync();

        async Task<ProtocolResponse> SignInAsync(string htu)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/token")
            {
                Content = new StringContent($$"""{"username":"{{user}}","password":"{{TokenClient.Password}}"}""", null, "application/json"),
            };
            request.Headers.Add("DPoP", key.Proof(htu: htu));
            return await client.SendAsync(request);
        }

        var viaFacade = await SignInAsync("http://localhost:5001/api/token");
        var wrongUrl = await SignInAsync(DpopKey.TokenEndpoint);

        Assert.Equal(HttpStatusCode.OK, viaFacade.Status);
        Assert.Equal("DPoP", viaFacade["token_type"]);
        Assert.Equal(key.Thumbprint, DpopRequests.BoundKey(viaFacade.AccessToken));
        AssertInvalidProof(wrongUrl, "htu");
    }

    [Fact]
    public async Task Proof_UsedTwice_IsRefused()
    {
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };
        var user = await factory.CreateUserAsync();
        var proof = key.Proof();
        Assert.Equal(HttpStatusCode.OK, (await client.DpopPasswordAsync(user, proof)).Status);

        var replay = await client.DpopPasswordAsync(user, proof);

        AssertInvalidProof(replay, "already used");
    }

    [Fact]
    public async Task TwoDpopHeaders_AreRefused()
    {
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };

        var response = await client.DpopPasswordAsync(await factory.CreateUserAsync(), key.Proof(), key.Proof());

        AssertInvalidProof(response, "exactly one DPoP header");
    }

    public static TheoryData<string, string> BadProofs => new()
    {
        { "iat-old", "iat" },
        { "iat-future", "iat" },
        { "htu-other", "htu" },
        { "htu-query-only-differs-ok", "" },
        { "htm-get", "htm" },
        { "private-jwk", "private member 'd'" },
        { "alg-none", "alg" },
        { "alg-hs256", "alg" },
        { "typ-jwt", "typ" },
        { "no-jti", "jti" },
        { "iat-string", "payload" }, // JsonWebToken refuses a registered claim of the wrong type while parsing
        { "jwk-string", "jwk" },
        { "wrong-signature", "signature" },
        { "bad-base64", "base64url" },
        { "nested-json", "base64url" },
        { "huge", "size" },
        { "not-a-jwt", "compact JWS" },
        { "jwk-wrong-types", "jwk" },
        { "ec-short-coordinate", "jwk" },
        { "ec-off-curve", "jwk" },
        { "rsa-for-es256", "jwk" },
    };

    [Theory]
    [MemberData(nameof(BadProofs))]
    public async Task BadProof_IsRefusedAsInvalidDpopProof(string kind, string descriptionPart)
    {
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };
        var proof = kind switch
        {
            "iat-old" => key.Proof(edit: (_, claims) => claims["iat"] = key.Now.AddMinutes(-6).ToUnixTimeSeconds()),
            "iat-future" => key.Proof(edit: (_, claims) => claims["iat"] = key.Now.AddMinutes(6).ToUnixTimeSeconds()),
            "htu-other" => key.Proof(htu: "http://localhost:5001/connect/introspect"),
            "htu-query-only-differs-ok" => key.Proof(htu: DpopKey.TokenEndpoint + "?x=1#y"),
            "htm-get" => key.Proof(htm: "GET"),
            "private-jwk" => key.Proof(edit: (header, _) => header["jwk"] = key.PrivateJwk),
            "alg-none" => Unsigned(key, "none"),
            "alg-hs256" => Unsigned(key, "HS256") + "c2lnbmF0dXJl",
            "typ-jwt" => key.Proof(edit: (header, _) => header["typ"] = "JWT"),
            "no-jti" => key.Proof(edit: (_, claims) => claims.Remove("jti")),
            "iat-string" => key.Proof(edit: (_, claims) => claims["iat"] = "yesterday"),
            "jwk-string" => key.Proof(edit: (header, _) => header["jwk"] = "key"),
            "wrong-signature" => ReplaceSignature(key.Proof(), new DpopKey().Proof()),
            "bad-base64" => "%%%." + key.Proof().Split('.')[1] + ".sig",
            "nested-json" => key.Sign("{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":" + new string('[', 500) + new string(']', 500) + "}", "{}"),
            "huge" => key.Proof(edit: (_, claims) => claims["pad"] = new string('a', 20_000)),
            "jwk-wrong-types" => key.Proof(edit: (header, _) => header["jwk"] = new System.Text.Json.Nodes.JsonObject { ["kty"] = "EC", ["crv"] = 7, ["x"] = new System.Text.Json.Nodes.JsonArray(), ["y"] = new System.Text.Json.Nodes.JsonObject() }),
            "ec-short-coordinate" => key.Proof(edit: (header, _) => header["jwk"]!["x"] = "AAAA"),
            "ec-off-curve" => key.Proof(edit: (header, _) => header["jwk"]!["x"] = DpopKey.Base64Url(Enumerable.Repeat((byte)1, 32).ToArray())),
            "rsa-for-es256" => key.Proof(edit: (header, _) => header["jwk"] = new System.Text.Json.Nodes.JsonObject { ["kty"] = "RSA", ["n"] = new string('A', 342), ["e"] = "AQAB" }),
            _ => "abc",
        };

        var response = await client.DpopPasswordAsync(await factory.CreateUserAsync(), proof);

        if (descriptionPart.Length == 0)
        {
            Assert.Equal(HttpStatusCode.OK, response.Status);
            return;
        }

        AssertInvalidProof(response, descriptionPart);
    }

    internal static void AssertInvalidProof(ProtocolResponse response, string descriptionPart)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_dpop_proof", response.Error);
        Assert.Contains(descriptionPart, response["error_description"], StringComparison.OrdinalIgnoreCase);
    }

    private static string Unsigned(DpopKey key, string alg)
    {
        var signed = key.Proof(edit: (header, _) => header["alg"] = alg);
        var parts = signed.Split('.');
        return parts[0] + "." + parts[1] + ".";
    }

    private static string ReplaceSignature(string proof, string other) =>
        proof[..(proof.LastIndexOf('.') + 1)] + other[(other.LastIndexOf('.') + 1)..];
}
