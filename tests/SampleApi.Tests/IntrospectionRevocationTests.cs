using System.Net;
using Microsoft.Extensions.Time.Testing;
using SampleApi.Tests.Infrastructure;

namespace SampleApi.Tests;

/// <summary>
/// Why operators choose Introspection mode: a revoked access token is refused as soon as no cached answer covers it.
/// <c>SampleApi:IntrospectionCacheDuration</c> is the window in which a revoked token is still accepted.
/// </summary>
public sealed class IntrospectionRevocationTests : IDisposable
{
    private readonly IdentityHostFactory identityHost = new();
    private readonly TokenClient tokens;

    public IntrospectionRevocationTests() => tokens = identityHost.CreateTokenClient();

    [Fact]
    public async Task Me_RevokedAccessToken_IsRefusedAtOnce()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);
        var accessToken = (await tokens.PasswordAsync()).AccessToken;
        Assert.Equal(HttpStatusCode.OK, (await tokens.RevokeAsync(accessToken)).Status);

        using var response = await api.GetMeAsync(accessToken);

        BearerAssert.InvalidToken(response, "not active");
    }

    [Fact]
    public async Task Me_AccessTokenOfRevokedRefreshToken_IsRefusedAtOnce()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);
        var issued = await tokens.PasswordAsync();
        Assert.Equal(HttpStatusCode.OK, (await tokens.RevokeAsync(issued.RefreshToken)).Status);

        using var response = await api.GetMeAsync(issued.AccessToken);

        BearerAssert.InvalidToken(response, "not active");
    }

    [Fact]
    public async Task Me_CacheDisabled_RevocationTakesEffectOnTheNextCall()
    {
        using var api = SampleApiFactory.Introspecting(identityHost, cacheDuration: "00:00:00");
        var accessToken = (await tokens.PasswordAsync()).AccessToken;
        using var before = await api.GetMeAsync(accessToken);

        await tokens.RevokeAsync(accessToken);
        using var after = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        BearerAssert.InvalidToken(after, "not active");
    }

    [Fact]
    public async Task Me_RevokedWithinCacheDuration_IsAcceptedUntilTheCachedAnswerRunsOut()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var api = SampleApiFactory.Introspecting(identityHost, cacheDuration: "00:01:00", time: time);
        var accessToken = (await tokens.PasswordAsync()).AccessToken;
        using var first = await api.GetMeAsync(accessToken);
        await tokens.RevokeAsync(accessToken);

        using var withinCache = await api.GetMeAsync(accessToken);
        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        using var afterCache = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withinCache.StatusCode);
        BearerAssert.InvalidToken(afterCache, "not active");
    }

    public void Dispose() => identityHost.Dispose();
}
