using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace IdentityHost.Tests.RefreshLifecycle;

/// <summary>Absolute and sliding refresh lifetimes and per-client overrides, on a fake clock (no sleeps).</summary>
public sealed class LifetimeTests : IDisposable
{
    private readonly IdentityHostFactory factory = new()
    {
        Settings =
        {
            ["IdentityHost:AccessTokenLifetime"] = "00:05:00",
            ["IdentityHost:RefreshTokens:AbsoluteLifetime"] = "02:00:00",
            ["IdentityHost:RefreshTokens:SlidingLifetime"] = "01:00:00",
            ["IdentityHost:Clients:web:AccessTokenLifetime"] = "00:02:00",
            ["IdentityHost:Clients:web:RefreshTokens:SlidingLifetime"] = "00:30:00",
        },
    };

    private TokenClient Client => factory.CreateTokenClient();

    [Fact]
    public async Task Refresh_WithinSlidingWindow_Succeeds()
    {
        var tokens = await Client.PasswordAsync();
        factory.Time.Advance(TimeSpan.FromMinutes(59));

        Assert.Equal(HttpStatusCode.OK, (await Client.RefreshAsync(tokens.RefreshToken)).Status);
    }

    [Fact]
    public async Task Refresh_IdlePastSlidingWindow_ReturnsInvalidGrant()
    {
        var tokens = await Client.PasswordAsync();
        factory.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        var response = await Client.RefreshAsync(tokens.RefreshToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
    }

    [Fact]
    public async Task Refresh_EachRotationExtendsTheSlidingWindow()
    {
        var tokens = await Client.PasswordAsync();
        for (var step = 0; step < 3; step++)
        {
            factory.Time.Advance(TimeSpan.FromMinutes(35));
            tokens = await Client.RefreshAsync(tokens.RefreshToken);
            Assert.Equal(HttpStatusCode.OK, tokens.Status);
        }
    }

    [Fact]
    public async Task Refresh_AbsoluteCapReachedWhileSlidingWindowFresh_ReturnsInvalidGrant()
    {
        var tokens = await Client.PasswordAsync();
        factory.Time.Advance(TimeSpan.FromMinutes(50));
        tokens = await Client.RefreshAsync(tokens.RefreshToken);
        factory.Time.Advance(TimeSpan.FromMinutes(50));
        tokens = await Client.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);

        // 1h40 after sign-in; the last token was issued a moment ago, but the family ends at 2h.
        factory.Time.Advance(TimeSpan.FromMinutes(21));
        var response = await Client.RefreshAsync(tokens.RefreshToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
    }

    [Fact]
    public async Task Refresh_ExpiredToken_IsRefusedWithoutRevokingTheFamily()
    {
        var tokens = await Client.PasswordAsync();
        var family = Jwt.Payload(tokens.AccessToken).GetProperty("oi_au_id").GetString()!;
        factory.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        Assert.Equal("invalid_grant", (await Client.RefreshAsync(tokens.RefreshToken)).Error);

        await using var scope = factory.Services.CreateAsyncScope();
        var authorizations = scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
        var authorization = await authorizations.FindByIdAsync(family);
        Assert.NotNull(authorization);
        Assert.True(await authorizations.HasStatusAsync(authorization, OpenIddictConstants.Statuses.Valid));
    }

    [Fact]
    public async Task PerClientOverrides_AreHonoured()
    {
        var web = await Client.PasswordAsync(scope: "offline_access api", clientId: "web", secret: null);
        var postman = await Client.PasswordAsync();
        var webClaims = Jwt.Payload(web.AccessToken);
        Assert.Equal(120, webClaims.GetProperty("exp").GetInt64() - webClaims.GetProperty("iat").GetInt64());
        var postmanClaims = Jwt.Payload(postman.AccessToken);
        Assert.Equal(300, postmanClaims.GetProperty("exp").GetInt64() - postmanClaims.GetProperty("iat").GetInt64());

        factory.Time.Advance(TimeSpan.FromMinutes(31));

        Assert.Equal("invalid_grant", (await Client.RefreshAsync(web.RefreshToken, clientId: "web", secret: null)).Error);
        Assert.Equal(HttpStatusCode.OK, (await Client.RefreshAsync(postman.RefreshToken)).Status);
    }

    [Fact]
    public async Task FakeClock_DrivesIssuedAt()
    {
        factory.Time.Advance(TimeSpan.FromDays(3));

        var claims = Jwt.Payload((await Client.PasswordAsync()).AccessToken);

        Assert.Equal(factory.Time.GetUtcNow().ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64(), tolerance: 1);
    }

    public void Dispose() => factory.Dispose();
}
