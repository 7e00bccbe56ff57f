using System.Net;

namespace IdentityHost.Tests.RefreshLifecycle;

/// <summary>RFC 7009 revocation: a refresh token takes its whole family with it; an access token only itself.</summary>
public sealed class RevocationTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task RevokingARefreshToken_RevokesItsFamily()
    {
        var first = await client.PasswordAsync();
        var second = await client.RefreshAsync(first.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(second.RefreshToken)).Status);

        Assert.Equal("invalid_grant", (await client.RefreshAsync(second.RefreshToken)).Error);
        Assert.False(await IsActiveAsync(second.AccessToken));
        Assert.False(await IsActiveAsync(first.AccessToken));
    }

    [Fact]
    public async Task RevokingASpentRefreshToken_AlsoRevokesItsFamily()
    {
        var first = await client.PasswordAsync();
        var second = await client.RefreshAsync(first.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(first.RefreshToken)).Status);

        Assert.False(await IsActiveAsync(second.AccessToken));
        Assert.Equal("invalid_grant", (await client.RefreshAsync(second.RefreshToken)).Error);
    }

    [Fact]
    public async Task RevokingAnAccessToken_MakesItInactive_AndLeavesTheRefreshTokenWorking()
    {
        var tokens = await client.PasswordAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(tokens.AccessToken)).Status);

        Assert.False(await IsActiveAsync(tokens.AccessToken));
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(tokens.RefreshToken)).Status);
    }

    [Fact]
    public async Task RevokingTwice_Returns200BothTimes()
    {
        var tokens = await client.PasswordAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(tokens.RefreshToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(tokens.RefreshToken)).Status);
    }

    [Fact]
    public async Task PublicClient_RevokesItsOwnRefreshToken()
    {
        var tokens = await client.PasswordAsync(scope: "offline_access api", clientId: "web", secret: null);

        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(tokens.RefreshToken, clientId: "web", secret: null)).Status);

        Assert.Equal("invalid_grant", (await client.RefreshAsync(tokens.RefreshToken, clientId: "web", secret: null)).Error);
    }

    [Fact]
    public async Task Introspection_NeverRevokes_EvenASpentRefreshToken()
    {
        var first = await client.PasswordAsync();
        var second = await client.RefreshAsync(first.RefreshToken);

        var introspection = await client.IntrospectAsync(first.RefreshToken, "postman", "postman-secret");

        Assert.False(introspection.Body.GetProperty("active").GetBoolean());
        Assert.True(await IsActiveAsync(second.AccessToken));
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(second.RefreshToken)).Status);
    }

    private async Task<bool> IsActiveAsync(string token) =>
        (await client.IntrospectAsync(token)).Body.GetProperty("active").GetBoolean();
}
