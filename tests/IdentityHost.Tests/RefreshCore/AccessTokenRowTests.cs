using System.Net;
using IdentityHost.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Tests.RefreshCore;

/// <summary>
/// JWT access tokens are issued without a row of their own (issue 11, route 1): a refresh writes one row, its refresh
/// token. Everything a row was for still holds: a revoked family's access tokens are inactive, one access token can be
/// revoked (RFC 7009) without ending its family, and a removed client's tokens die (ClientRemovalTests).
/// </summary>
public sealed class AccessTokenRowTests : IDisposable
{
    private readonly IdentityHostFactory factory = new();
    private readonly TokenClient client;

    public AccessTokenRowTests() => client = factory.CreateTokenClient();

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task Refresh_WritesOnlyTheRefreshTokensRow_AndTheAccessTokenCarriesNoRowId()
    {
        var tokens = await client.PasswordAsync(scope: "offline_access api");
        var before = await CountAsync();

        var refreshed = await client.RefreshAsync(tokens.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        var after = await CountAsync();
        Assert.Equal(before.Refresh + 1, after.Refresh);
        Assert.Equal(0, after.Access);
        Assert.False(Jwt.Payload(refreshed.AccessToken).TryGetProperty("oi_tkn_id", out _));
        Assert.True(Jwt.Payload(refreshed.AccessToken).TryGetProperty("jti", out _));
        Assert.True((await client.IntrospectAsync(refreshed.AccessToken)).Body.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task RevokingOneAccessToken_MakesItInactiveEverywhere_AndTheFamilyKeepsWorking()
    {
        var tokens = await client.PasswordAsync(scope: "openid offline_access api");

        var revoked = await client.RevokeAsync(tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, revoked.Status);
        Assert.False((await client.IntrospectAsync(tokens.AccessToken)).Body.GetProperty("active").GetBoolean());
        using var userInfo = new HttpRequestMessage(HttpMethod.Get, "connect/userinfo") { Headers = { Authorization = new("Bearer", tokens.AccessToken) } };
        var answer = await client.SendAsync(userInfo);
        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);

        var refreshed = await client.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.True((await client.IntrospectAsync(refreshed.AccessToken)).Body.GetProperty("active").GetBoolean());
        Assert.Equal(1, (await CountAsync()).Access); // the revocation's row, which expires with the token
    }

    [Fact]
    public async Task RevokingTheSameAccessTokenTwiceOrAtOnce_NeverFails()
    {
        var tokens = await client.ClientCredentialsAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.RevokeAsync(tokens.AccessToken, "service", "service-secret")));
        var again = await client.RevokeAsync(tokens.AccessToken, "service", "service-secret");

        Assert.All(answers.Append(again), response => Assert.True(response.Status < HttpStatusCode.InternalServerError, response.Body.ToString()));
        Assert.Contains(answers, response => response.Status == HttpStatusCode.OK);
        Assert.False((await client.IntrospectAsync(tokens.AccessToken)).Body.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task AnotherClient_CannotRevokeSomeoneElsesAccessToken()
    {
        var tokens = await client.PasswordAsync(scope: "offline_access api");

        var attempt = await client.RevokeAsync(tokens.AccessToken, "service", "service-secret");

        Assert.True(attempt.Status < HttpStatusCode.InternalServerError);
        Assert.True((await client.IntrospectAsync(tokens.AccessToken)).Body.GetProperty("active").GetBoolean());
        Assert.Equal(0, (await CountAsync()).Access);
    }

    [Fact]
    public async Task RevokingTheFamily_MakesItsAccessTokensInactive_WithoutRowsOfTheirOwn()
    {
        var tokens = await client.PasswordAsync(scope: "offline_access api");
        var refreshed = await client.RefreshAsync(tokens.RefreshToken);

        await client.RevokeAsync(refreshed.RefreshToken);

        Assert.False((await client.IntrospectAsync(tokens.AccessToken)).Body.GetProperty("active").GetBoolean());
        Assert.False((await client.IntrospectAsync(refreshed.AccessToken)).Body.GetProperty("active").GetBoolean());
    }

    private async Task<(int Refresh, int Access)> CountAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        var tokens = db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken>();
        return (await tokens.CountAsync(token => token.Type == TokenTypeIdentifiers.RefreshToken),
                await tokens.CountAsync(token => token.Type == TokenTypeIdentifiers.AccessToken));
    }
}
