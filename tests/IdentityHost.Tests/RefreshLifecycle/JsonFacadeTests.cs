using System.Net;
using System.Text;
using System.Text.Json;

namespace IdentityHost.Tests.RefreshLifecycle;

/// <summary>The devise-jwt-style JSON facade: same grants, same errors, JSON in and out.</summary>
public sealed class JsonFacadeTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task SignIn_ReturnsExactlyTheFourFields()
    {
        var response = await PostJsonAsync("/api/token", """{"username":"alice","password":"Pass123$"}""");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(["access_token", "expires_in", "refresh_token", "token_type"], response.Body.EnumerateObject().Select(field => field.Name).Order());
        Assert.Equal("Bearer", response["token_type"]);
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
        var claims = Jwt.Payload(response.AccessToken);
        Assert.Equal("web", claims.GetProperty("client_id").GetString());
        Assert.Equal("sample-api", claims.GetProperty("aud").GetString());
    }

    [Fact]
    public async Task Refresh_RotatesAndTheOldTokenIsRefused()
    {
        var first = await PostJsonAsync("/api/token", """{"username":"alice","password":"Pass123$"}""");

        var second = await PostJsonAsync("/api/token/refresh", JsonSerializer.Serialize(new { refresh_token = first.RefreshToken }));
        var replay = await PostJsonAsync("/api/token/refresh", JsonSerializer.Serialize(new { refresh_token = first.RefreshToken }));

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, replay.Status);
        Assert.Equal("invalid_grant", replay.Error);
        Assert.Equal("invalid_grant", (await PostJsonAsync("/api/token/refresh", JsonSerializer.Serialize(new { refresh_token = second.RefreshToken }))).Error);
    }

    [Fact]
    public async Task SignIn_WrongPassword_IsTheSameInvalidGrantAsTheTokenEndpoint()
    {
        var viaFacade = await PostJsonAsync("/api/token", """{"username":"alice","password":"nope"}""");
        var viaToken = await client.PasswordAsync(password: "nope", scope: "offline_access api", clientId: "web", secret: null);

        Assert.Equal(HttpStatusCode.BadRequest, viaFacade.Status);
        Assert.Equal("invalid_grant", viaFacade.Error);
        Assert.Equal(viaToken["error_description"], viaFacade["error_description"]);
    }

    [Fact]
    public async Task Refresh_TokenOfAnotherClient_ReturnsInvalidGrant()
    {
        var postman = await client.PasswordAsync();

        var response = await PostJsonAsync("/api/token/refresh", JsonSerializer.Serialize(new { refresh_token = postman.RefreshToken }));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
    }

    [Theory]
    [InlineData("/api/token", "{\"username\":\"alice\"")]
    [InlineData("/api/token", "not json at all")]
    [InlineData("/api/token", "[\"alice\",\"Pass123$\"]")]
    [InlineData("/api/token", "{\"username\":\"alice\"}")]
    [InlineData("/api/token", "{\"username\":\"alice\",\"password\":42}")]
    [InlineData("/api/token", "{\"username\":\"\",\"password\":\"Pass123$\"}")]
    [InlineData("/api/token/refresh", "{}")]
    [InlineData("/api/token/refresh", "{\"refresh_token\":null}")]
    public async Task MalformedOrIncompleteJson_ReturnsInvalidRequest(string path, string body)
    {
        var response = await PostJsonAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_request", response.Error);
        Assert.NotNull(response["error_description"]);
    }

    [Theory]
    [InlineData("/api/token/refresh", "{\"refresh_token\":\"\\u0000\"}")]
    [InlineData("/api/token", "{\"username\":\"alice\\u0000\",\"password\":\"Pass123$\"}")]
    public async Task NulCharacterInJsonValue_IsInvalidRequest_NotAServerError(string path, string body)
    {
        // Found by the fuzz test (form decoding refuses %00) and by the PostgreSQL run (PostgreSQL refuses NUL in text).
        var response = await PostJsonAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_request", response.Error);
    }

    [Fact]
    public async Task WrongContentType_ReturnsInvalidRequest()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "alice", ["password"] = "Pass123$" }),
        };

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_request", response.Error);
    }

    [Fact]
    public async Task Get_ReturnsInvalidRequest()
    {
        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/token"));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_request", response.Error);
    }

    private Task<ProtocolResponse> PostJsonAsync(string path, string json) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
}
