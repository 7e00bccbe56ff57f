using System.Net;

namespace IdentityHost.Tests.Protocol;

public sealed class IntrospectionAndRevocationTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task Introspect_ActiveAccessToken_DescribesIt()
    {
        var tokens = await client.PasswordAsync();

        var response = await client.IntrospectAsync(tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.True(response.Body.GetProperty("active").GetBoolean());
        Assert.Equal("postman", response["client_id"]);
        Assert.Equal(Jwt.Payload(tokens.AccessToken).GetProperty("sub").GetString(), response["sub"]);
        Assert.Contains("api", response["scope"]!.Split(' '));
    }

    [Fact]
    public async Task Introspect_IsReadOnly_RefreshTokenStillWorksAfterwards()
    {
        var tokens = await client.PasswordAsync();

        await client.IntrospectAsync(tokens.RefreshToken, clientId: "postman", secret: "postman-secret");

        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(tokens.RefreshToken)).Status);
    }

    [Fact]
    public async Task Introspect_UnknownToken_IsInactive()
    {
        var response = await client.IntrospectAsync("garbage");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.False(response.Body.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Introspect_WrongSecret_ReturnsInvalidClient401()
    {
        var response = await client.IntrospectAsync("garbage", secret: "wrong");

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("invalid_client", response.Error);
    }

    [Fact]
    public async Task Introspect_PublicClient_IsRefused()
    {
        var tokens = await client.PasswordAsync();

        var response = await client.IntrospectAsync(tokens.AccessToken, clientId: "web", secret: null);

        Assert.True((int)response.Status is 400 or 401, response.ToString());
        Assert.NotNull(response.Error);
    }

    [Fact]
    public async Task Revoke_RefreshToken_CannotBeUsedAnymore()
    {
        var tokens = await client.PasswordAsync();

        var response = await client.RevokeAsync(tokens.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(tokens.RefreshToken)).Error);
    }

    [Fact]
    public async Task Revoke_UnknownToken_Returns200()
    {
        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync("garbage")).Status);
    }

    [Fact]
    public async Task UserInfo_ReturnsClaimsForGrantedScopesOnly()
    {
        var withEmail = await client.PasswordAsync(scope: "openid email");
        var plain = await client.PasswordAsync(scope: "openid");

        var full = await GetUserInfoAsync(withEmail.AccessToken);
        var minimal = await GetUserInfoAsync(plain.AccessToken);

        Assert.Equal(HttpStatusCode.OK, full.Status);
        Assert.Equal("alice@example.com", full["email"]);
        Assert.Equal(Jwt.Payload(plain.AccessToken).GetProperty("sub").GetString(), minimal["sub"]);
        Assert.Null(minimal["email"]);
    }

    [Fact]
    public async Task UserInfo_WithoutToken_Returns401()
    {
        using var response = await client.Http.GetAsync("connect/userinfo");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private Task<ProtocolResponse> GetUserInfoAsync(string accessToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "connect/userinfo");
        request.Headers.Authorization = new("Bearer", accessToken);
        return client.SendAsync(request);
    }
}
