using System.Net;
using System.Text.Json;

namespace IdentityHost.Tests.Protocol;

/// <summary>
/// RFC 7662 §2.2 and the contract: an active token's answer, to the client it was issued to and to its audience, carries
/// <c>scope</c>, <c>client_id</c>, <c>sub</c>, <c>exp</c>, <c>iat</c>, <c>iss</c> and (access tokens) <c>token_type</c>.
/// A confidential client that is neither gets what OpenIddict gave it before: <c>active: false</c> for a token with an
/// audience, and the metadata without <c>scope</c> for a token with none (OpenIddict skips its authorized-party check
/// when the access token has no audience).
/// </summary>
public sealed class IntrospectionFieldsTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task Introspect_AccessTokenByItsOwnClient_CarriesScopeAndTheContractFields()
    {
        var accessToken = (await client.PasswordAsync(scope: "openid offline_access api")).AccessToken;

        var response = await client.IntrospectAsync(accessToken, clientId: "postman", secret: "postman-secret");

        AssertDescribes(response, accessToken, "openid offline_access api");
    }

    [Fact]
    public async Task Introspect_AccessTokenByItsAudience_CarriesScopeAndTheContractFields()
    {
        var accessToken = (await client.PasswordAsync(scope: "openid offline_access api")).AccessToken;

        var response = await client.IntrospectAsync(accessToken, clientId: "sample-api", secret: "sample-api-secret");

        AssertDescribes(response, accessToken, "openid offline_access api");
    }

    [Fact]
    public async Task Introspect_ClientCredentialsTokenByItsOwnClient_CarriesScope()
    {
        var accessToken = (await client.ClientCredentialsAsync(scope: "api")).AccessToken;

        var response = await client.IntrospectAsync(accessToken, clientId: "service", secret: "service-secret");

        AssertDescribes(response, accessToken, "api");
    }

    [Fact]
    public async Task Introspect_AccessTokenWithoutAudienceByItsOwnClient_CarriesScope()
    {
        var accessToken = (await client.PasswordAsync(scope: "openid profile")).AccessToken;
        Assert.False(Jwt.Payload(accessToken).TryGetProperty("aud", out _));

        var response = await client.IntrospectAsync(accessToken, clientId: "postman", secret: "postman-secret");

        AssertDescribes(response, accessToken, "openid profile");
    }

    [Fact]
    public async Task Introspect_RefreshTokenByItsOwnClient_CarriesScopeAndNoBearerTokenType()
    {
        var tokens = await client.PasswordAsync(scope: "openid offline_access api");

        var response = await client.IntrospectAsync(tokens.RefreshToken, clientId: "postman", secret: "postman-secret");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.True(response.Body.GetProperty("active").GetBoolean(), response.ToString());
        Assert.Equal(SortedScope("openid offline_access api"), SortedScope(response["scope"]));
        Assert.Equal("postman", response["client_id"]);
        Assert.Equal(Jwt.Payload(tokens.AccessToken).GetProperty("sub").GetString(), response["sub"]);
        Assert.Equal(Jwt.Payload(tokens.AccessToken).GetProperty("iss").GetString(), response["iss"]);
        Assert.True(response.Body.GetProperty("exp").GetInt64() > response.Body.GetProperty("iat").GetInt64());
        Assert.Equal("refresh_token", response["token_usage"]);

        // RFC 7662 §2.2: token_type is the access token type of RFC 6749 §7.1; a refresh token has none.
        Assert.Null(response["token_type"]);
    }

    [Fact]
    public async Task Introspect_AccessTokenWithAudienceByAnUnrelatedClient_IsInactiveAsBefore()
    {
        var accessToken = (await client.PasswordAsync(scope: "openid api")).AccessToken;

        var response = await client.IntrospectAsync(accessToken, clientId: "service", secret: "service-secret");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("""{"active":false}""", JsonSerializer.Serialize(response.Body));
    }

    [Theory]
    [InlineData("service", "service-secret")]
    [InlineData("sample-api", "sample-api-secret")]
    public async Task Introspect_AccessTokenWithoutAudienceByAnUnrelatedClient_GetsNoScope(string clientId, string secret)
    {
        var accessToken = (await client.PasswordAsync(scope: "openid profile")).AccessToken;

        var response = await client.IntrospectAsync(accessToken, clientId, secret);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Null(response["scope"]);
        var members = response.Body.EnumerateObject().Select(member => member.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["active", "client_id", "exp", "iat", "iss", "jti", "nbf", "sub", "token_type", "token_usage"], members);
    }

    private void AssertDescribes(ProtocolResponse response, string accessToken, string scope)
    {
        var claims = Jwt.Payload(accessToken);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.True(response.Body.GetProperty("active").GetBoolean(), response.ToString());
        Assert.Equal(SortedScope(scope), SortedScope(response["scope"]));
        Assert.Equal(claims.GetProperty("client_id").GetString(), response["client_id"]);
        Assert.Equal(claims.GetProperty("sub").GetString(), response["sub"]);
        Assert.Equal(claims.GetProperty("exp").GetInt64(), response.Body.GetProperty("exp").GetInt64());
        Assert.Equal(claims.GetProperty("iat").GetInt64(), response.Body.GetProperty("iat").GetInt64());
        Assert.Equal(claims.GetProperty("iss").GetString(), response["iss"]);
        Assert.Equal("Bearer", response["token_type"]);
    }

    private static string? SortedScope(string? scope) =>
        scope is null ? null : string.Join(' ', scope.Split(' ').Order(StringComparer.Ordinal));
}
