using System.Net;

namespace IdentityHost.Tests.TokenEndpoint;

public sealed class ClientCredentialsTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task ClientCredentials_IssuesAccessTokenForTheApi()
    {
        var response = await client.ClientCredentialsAsync();

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Null(response["refresh_token"]);
        var claims = Jwt.Payload(response.AccessToken);
        Assert.Equal("sample-api", claims.GetProperty("aud").GetString());
        Assert.Equal("service", claims.GetProperty("client_id").GetString());
        Assert.Equal("service", claims.GetProperty("sub").GetString());
        Assert.Equal("api", claims.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task ClientCredentials_WithOfflineAccess_StillIssuesNoRefreshToken()
    {
        var response = await client.ClientCredentialsAsync(scope: "api offline_access", clientId: "postman", secret: "postman-secret");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Null(response["refresh_token"]);
        Assert.DoesNotContain("offline_access", Jwt.Payload(response.AccessToken).GetProperty("scope").GetString());
    }

    [Fact]
    public async Task ClientCredentials_PublicClient_IsRefused()
    {
        var response = await client.ClientCredentialsAsync(clientId: "web", secret: null);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_request", response.Error);
        Assert.Contains("client_secret", response["error_description"]);
    }

    [Fact]
    public async Task ClientCredentials_ClientNotAllowedTheGrant_ReturnsUnauthorizedClient()
    {
        var response = await client.ClientCredentialsAsync(clientId: "sample-api", secret: "sample-api-secret");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("unauthorized_client", response.Error);
    }
}
