using System.Net;
using System.Text.Json;
using SampleApi.Tests.Infrastructure;

namespace SampleApi.Tests;

/// <summary>
/// RFC 9068 §4 in both validation modes: a token from the trusted issuer whose <c>aud</c> does not contain
/// <c>SampleApi:Audience</c> (here: none at all) is 401 invalid_token on every protected endpoint. <c>POST /api/echo</c>
/// needs scope <c>api.write</c>: a token for this API without it is 403 naming <c>api.write</c>.
/// </summary>
public sealed class AudienceAndWriteScopeTests : IDisposable
{
    private readonly IdentityHostFactory identityHost = new()
    {
        // A scope with no resource: client_credentials for it yields a token without aud.
        Settings =
        {
            ["IdentityHost:Scopes:reports:DisplayName"] = "Reports",
            ["IdentityHost:Clients:service:Scopes:1"] = "reports",
        },
    };

    private readonly TokenClient tokens;

    public AudienceAndWriteScopeTests() => tokens = identityHost.CreateTokenClient();

    public static TheoryData<string, string, string> NoAudienceCases => new()
    {
        { "Jwt", "password", "/api/me" },
        { "Jwt", "client_credentials", "/api/me" },
        { "Jwt", "password", "/api/echo" },
        { "Introspection", "password", "/api/me" },
        { "Introspection", "client_credentials", "/api/me" },
        { "Introspection", "password", "/api/echo" },
    };

    [Theory]
    [MemberData(nameof(NoAudienceCases))]
    public async Task Protected_TokenFromTrustedIssuerWithoutAudience_Returns401InvalidToken(string mode, string grant, string path)
    {
        using var api = Api(mode);
        var accessToken = grant == "password"
            ? (await tokens.PasswordAsync(scope: "openid profile")).AccessToken
            : (await tokens.ClientCredentialsAsync(scope: "reports")).AccessToken;
        Assert.False(Jwt.Payload(accessToken).TryGetProperty("aud", out _));

        using var response = path == "/api/me" ? await api.GetMeAsync(accessToken) : await api.PostEchoAsync(accessToken, "{}");

        BearerAssert.InvalidToken(response, "audience");
    }

    [Theory]
    [InlineData("Jwt")]
    [InlineData("Introspection")]
    public async Task Echo_TokenWithApiWrite_Returns200WithCallerAndBody(string mode)
    {
        using var api = Api(mode);
        var accessToken = (await tokens.PasswordAsync(scope: "api.write")).AccessToken;

        using var response = await api.PostEchoAsync(accessToken, """{"message":"hi","n":[1,2]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(Jwt.Payload(accessToken).GetProperty("sub").GetString(), body.GetProperty("sub").GetString());
        Assert.Equal("postman", body.GetProperty("client_id").GetString());
        Assert.Equal("hi", body.GetProperty("body").GetProperty("message").GetString());
        Assert.Equal(2, body.GetProperty("body").GetProperty("n").GetArrayLength());
    }

    [Theory]
    [InlineData("Jwt", "password")]
    [InlineData("Jwt", "client_credentials")]
    [InlineData("Introspection", "password")]
    [InlineData("Introspection", "client_credentials")]
    public async Task Echo_TokenForTheApiWithoutApiWrite_Returns403NamingApiWrite(string mode, string grant)
    {
        using var api = Api(mode);
        var accessToken = grant == "password"
            ? (await tokens.PasswordAsync(scope: "openid api")).AccessToken
            : (await tokens.ClientCredentialsAsync(scope: "api")).AccessToken;
        Assert.Equal("sample-api", Jwt.Payload(accessToken).GetProperty("aud").GetString());

        using var response = await api.PostEchoAsync(accessToken, "{}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.Single().ToString();
        Assert.StartsWith("Bearer error=\"insufficient_scope\"", challenge);
        Assert.EndsWith("scope=\"api.write\"", challenge);
    }

    [Fact]
    public async Task Echo_NoToken_Returns401BearerChallenge()
    {
        using var api = Api("Jwt");

        using var response = await api.PostEchoAsync(null, "{}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().ToString());
    }

    [Theory]
    [InlineData("{", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("{\"a\":1}{\"b\":2}", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("\"\\ud800\" garbage", "application/json; charset=utf-8", HttpStatusCode.BadRequest)]
    [InlineData("{\"a\":1}", "text/plain", HttpStatusCode.UnsupportedMediaType)]
    public async Task Echo_MalformedBody_Returns4xxWithError(string body, string contentType, HttpStatusCode expected)
    {
        using var api = Api("Jwt");
        var accessToken = (await tokens.PasswordAsync(scope: "api.write")).AccessToken;

        using var response = await api.PostEchoAsync(accessToken, body, contentType);

        Assert.Equal(expected, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("invalid_request", error.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("error_description").GetString()));
    }

    [Fact]
    public async Task Echo_DeeplyNestedBody_Returns400NotA500()
    {
        using var api = Api("Jwt");
        var accessToken = (await tokens.PasswordAsync(scope: "api.write")).AccessToken;

        using var response = await api.PostEchoAsync(accessToken, new string('[', 10_000) + new string(']', 10_000));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    public void Dispose() => identityHost.Dispose();

    private SampleApiFactory Api(string mode) => mode == "Introspection"
        ? SampleApiFactory.Introspecting(identityHost)
        : new SampleApiFactory(identityHost);
}
