using System.Net;
using System.Net.Http.Headers;
using SampleApi.Tests.Infrastructure;

namespace SampleApi.Tests;

/// <summary>
/// SampleApi's DPoP scheme beside Bearer (RFC 9449 §7), in both validation modes: a bound token needs
/// <c>Authorization: DPoP</c> and a fresh proof for this request made with its key; unbound tokens keep using Bearer.
/// </summary>
public sealed class DpopSchemeTests : IDisposable
{
    private const string Me = "http://localhost/api/me";
    private readonly IdentityHostFactory identityHost = new();
    private readonly DpopKey key = new();

    public static TheoryData<string> Modes => new() { "Jwt", "Introspection" };

    private SampleApiFactory Api(string mode) => mode == "Jwt" ? new SampleApiFactory(identityHost) : SampleApiFactory.Introspecting(identityHost);

    private async Task<string> BoundTokenAsync()
    {
        key.Now = identityHost.Time.GetUtcNow();
        var tokens = await identityHost.CreateTokenClient().DpopPasswordAsync(await identityHost.CreateUserAsync(), key.Proof());
        Assert.Equal("DPoP", tokens["token_type"]);
        return tokens.AccessToken;
    }

    private static async Task<HttpResponseMessage> SendAsync(SampleApiFactory api, string scheme, string token, params string[] proofs)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, token);
        foreach (var proof in proofs)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        return await api.CreateClient().SendAsync(request);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task BoundToken_WithDpopSchemeAndProof_Returns200(string mode)
    {
        using var api = Api(mode);
        var token = await BoundTokenAsync();

        using var response = await SendAsync(api, "DPoP", token, key.Proof(htu: Me, htm: "GET", accessToken: token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task BoundToken_AsBearer_Returns401(string mode)
    {
        using var api = Api(mode);

        using var response = await api.GetMeAsync(await BoundTokenAsync());

        BearerAssert.InvalidToken(response, "DPoP-bound");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task UnboundToken_StillWorksAsBearer_AndIsRefusedWithTheDpopScheme(string mode)
    {
        using var api = Api(mode);
        var token = (await identityHost.CreateTokenClient().PasswordAsync()).AccessToken;

        using var bearer = await api.GetMeAsync(token);
        using var dpop = await SendAsync(api, "DPoP", token, key.Proof(htu: Me, htm: "GET", accessToken: token));

        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        AssertDpopChallenge(dpop, "invalid_token", "not DPoP-bound");
    }

    public static TheoryData<string, string, string> BadProofs => new()
    {
        { "Jwt", "missing", "exactly one DPoP proof" },
        { "Jwt", "two", "exactly one DPoP proof" },
        { "Jwt", "other-token", "ath" },
        { "Jwt", "other-key", "not signed with the key" },
        { "Jwt", "htu", "htu" },
        { "Jwt", "htm", "htm" },
        { "Jwt", "old", "iat" },
        { "Jwt", "replay", "already used" },
        { "Jwt", "garbage", "compact JWS" },
        { "Introspection", "other-key", "not signed with the key" },
        { "Introspection", "replay", "already used" },
        { "Introspection", "other-token", "ath" },
    };

    [Theory]
    [MemberData(nameof(BadProofs))]
    public async Task BoundToken_WithBadProof_Returns401InvalidDpopProof(string mode, string kind, string descriptionPart)
    {
        using var api = Api(mode);
        var token = await BoundTokenAsync();
        using var otherKey = new DpopKey { Now = key.Now };
        var good = key.Proof(htu: Me, htm: "GET", accessToken: token);
        if (kind == "replay")
        {
            using var first = await SendAsync(api, "DPoP", token, good);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        string[] proofs = kind switch
        {
            "missing" => [],
            "two" => [good, key.Proof(htu: Me, htm: "GET", accessToken: token)],
            "other-token" => [key.Proof(htu: Me, htm: "GET", accessToken: token + "x")],
            "other-key" => [otherKey.Proof(htu: Me, htm: "GET", accessToken: token)],
            "htu" => [key.Proof(htu: "http://localhost/api/echo", htm: "GET", accessToken: token)],
            "htm" => [key.Proof(htu: Me, htm: "POST", accessToken: token)],
            "old" => [key.Proof(htu: Me, htm: "GET", accessToken: token, edit: (_, claims) => claims["iat"] = key.Now.AddMinutes(-10).ToUnixTimeSeconds())],
            "garbage" => ["not-a-proof"],
            _ => [good],
        };

        using var response = await SendAsync(api, "DPoP", token, proofs);

        AssertDpopChallenge(response, "invalid_dpop_proof", descriptionPart);
    }

    [Fact]
    public async Task BoundToken_PostEcho_WithPostProof_Returns200()
    {
        using var api = new SampleApiFactory(identityHost);
        key.Now = identityHost.Time.GetUtcNow();
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = await identityHost.CreateUserAsync(), ["password"] = TokenClient.Password,
            ["scope"] = "api api.write",
        };
        var token = (await identityHost.CreateTokenClient().TokenAsync(form, "postman", "postman-secret", key.Proof())).AccessToken;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/echo") { Content = new StringContent("{}", null, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token);
        request.Headers.Add("DPoP", key.Proof(htu: "http://localhost/api/echo", htm: "POST", accessToken: token));

        using var response = await api.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static void AssertDpopChallenge(HttpResponseMessage response, string error, string descriptionPart)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.Single().ToString();
        Assert.StartsWith($"DPoP error=\"{error}\", error_description=\"", challenge);
        Assert.Contains(descriptionPart, challenge);
        Assert.EndsWith("algs=\"ES256 ES384 RS256 PS256\"", challenge);
    }

    public void Dispose()
    {
        key.Dispose();
        identityHost.Dispose();
    }
}
