using System.Net;

namespace IdentityHost.Tests.TokenEndpoint;

public sealed class PasswordGrantTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task Password_ValidCredentials_IssuesRfc9068AccessTokenAndOpaqueRefreshToken()
    {
        var response = await client.PasswordAsync();

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Bearer", response["token_type"]);
        Assert.InRange(int.Parse(response["expires_in"]!), 3590, 3600);
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
        Assert.DoesNotContain('.', response.RefreshToken);

        var header = Jwt.Header(response.AccessToken);
        Assert.Equal("at+jwt", header.GetProperty("typ").GetString());
        Assert.Equal("RS256", header.GetProperty("alg").GetString());

        var claims = Jwt.Payload(response.AccessToken);
        Assert.Equal("http://localhost:5001/", claims.GetProperty("iss").GetString());
        Assert.Equal("sample-api", claims.GetProperty("aud").GetString());
        Assert.Equal("postman", claims.GetProperty("client_id").GetString());
        Assert.Equal(["api", "offline_access", "openid"], claims.GetProperty("scope").GetString()!.Split(' ').Order());
        Assert.False(string.IsNullOrEmpty(claims.GetProperty("sub").GetString()));
        Assert.False(string.IsNullOrEmpty(claims.GetProperty("jti").GetString()));
        Assert.Equal(3600, claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64());
        Assert.False(claims.TryGetProperty("email", out _));
        Assert.False(claims.TryGetProperty("ih_stamp", out _));
    }

    [Fact]
    public async Task Password_SubIsTheSameForEveryClient()
    {
        var viaPostman = Jwt.Payload((await client.PasswordAsync(scope: "api")).AccessToken);
        var viaWeb = Jwt.Payload((await client.PasswordAsync(scope: "api", clientId: "web", secret: null)).AccessToken);

        Assert.Equal(viaPostman.GetProperty("sub").GetString(), viaWeb.GetProperty("sub").GetString());
    }

    [Fact]
    public async Task Password_WithoutOfflineAccess_IssuesNoRefreshToken()
    {
        var response = await client.PasswordAsync(scope: "api");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Null(response["refresh_token"]);
    }

    [Fact]
    public async Task Password_IdTokenCarriesProfileAndEmailOnlyWhenGranted()
    {
        var withProfile = Jwt.Payload((await client.PasswordAsync(scope: "openid profile email")).IdToken());
        var without = Jwt.Payload((await client.PasswordAsync(scope: "openid")).IdToken());

        Assert.Equal("alice", withProfile.GetProperty("preferred_username").GetString());
        Assert.Equal("alice@example.com", withProfile.GetProperty("email").GetString());
        Assert.False(without.TryGetProperty("preferred_username", out _));
        Assert.False(without.TryGetProperty("email", out _));
        Assert.False(withProfile.TryGetProperty("ih_stamp", out _));
    }

    [Fact]
    public async Task Refresh_IdTokenCarriesProfileAndEmailOnlyWhileGranted()
    {
        // The principal carries profile and e-mail claims only under their scopes (issue 11, route 4): a refresh rebuilds
        // them from the user, so a family granted profile and email keeps them, and one narrowed without them loses them.
        var signIn = await client.PasswordAsync(scope: "openid profile email offline_access api");
        var refreshed = await client.RefreshAsync(signIn.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        var withProfile = Jwt.Payload(refreshed.IdToken());
        Assert.Equal("alice", withProfile.GetProperty("preferred_username").GetString());
        Assert.Equal("alice", withProfile.GetProperty("name").GetString());
        Assert.Equal("alice@example.com", withProfile.GetProperty("email").GetString());
        Assert.False(withProfile.TryGetProperty("ih_stamp", out _));

        var narrowed = await client.PostAsync("connect/token", "postman", "postman-secret", new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = refreshed.RefreshToken,
            ["scope"] = "openid offline_access api",
        });
        Assert.Equal(HttpStatusCode.OK, narrowed.Status);
        var without = Jwt.Payload(narrowed.IdToken());
        Assert.Equal(withProfile.GetProperty("sub").GetString(), without.GetProperty("sub").GetString());
        Assert.False(without.TryGetProperty("preferred_username", out _));
        Assert.False(without.TryGetProperty("email", out _));
    }

    [Fact]
    public async Task Password_WrongPassword_ReturnsInvalidGrant()
    {
        var response = await client.PasswordAsync(password: "wrong");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
        Assert.Equal("The username or password is incorrect.", response["error_description"]);
    }

    [Fact]
    public async Task Password_UnknownUser_ReturnsTheSameInvalidGrant()
    {
        var response = await client.PasswordAsync(username: "nobody");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
        Assert.Equal("The username or password is incorrect.", response["error_description"]);
    }

    [Fact]
    public async Task Password_UnknownClient_ReturnsInvalidClient401()
    {
        var response = await client.PasswordAsync(clientId: "nobody", secret: "whatever");

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("invalid_client", response.Error);
    }

    [Fact]
    public async Task Password_WrongSecret_ReturnsInvalidClient401()
    {
        var response = await client.PasswordAsync(secret: "wrong-secret");

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("invalid_client", response.Error);
        Assert.NotNull(response["error_description"]);
    }

    [Fact]
    public async Task Password_ClientNotAllowedTheGrant_ReturnsUnauthorizedClient()
    {
        var response = await client.PasswordAsync(scope: "api", clientId: "service", secret: "service-secret");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("unauthorized_client", response.Error);
    }

    [Fact]
    public async Task Password_ScopeTheClientMayNotRequest_IsRefused()
    {
        var response = await client.PasswordAsync(scope: "openid api", clientId: "web", secret: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_scope", response.Error);
        Assert.Contains("'openid'", response["error_description"]);
    }

    [Fact]
    public async Task Password_RepeatedFailures_LockTheAccountOut()
    {
        var user = await factory.CreateUserAsync();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            Assert.Equal("invalid_grant", (await client.PasswordAsync(username: user, password: "wrong")).Error);
        }

        var response = await client.PasswordAsync(username: user);

        Assert.Equal("invalid_grant", response.Error);
        Assert.Contains("locked", response["error_description"]);
    }
}

internal static class ResponseExtensions
{
    public static string IdToken(this ProtocolResponse response) =>
        response["id_token"] ?? throw new InvalidOperationException($"No id_token in {response}");
}
