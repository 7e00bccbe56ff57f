using System.Net;
using Serilog.Events;

namespace IdentityHost.Tests.RefreshLifecycle;

/// <summary>ReuseLeeway: only the token just rotated may be presented again, and the family keeps one live token.</summary>
public sealed class ReuseLeewayTests : IDisposable
{
    private readonly IdentityHostFactory factory = new() { Settings = { ["IdentityHost:RefreshTokens:ReuseLeeway"] = "00:00:30" } };

    private TokenClient Client => factory.CreateTokenClient();

    [Fact]
    public async Task LostResponseRetry_WithinLeeway_SucceedsAndTheUnreceivedSuccessorIsDead()
    {
        var first = await Client.PasswordAsync();
        var lost = await Client.RefreshAsync(first.RefreshToken);
        factory.Time.Advance(TimeSpan.FromSeconds(10));

        var retry = await Client.RefreshAsync(first.RefreshToken);

        Assert.True(retry.Status == HttpStatusCode.OK, retry.ToString());
        Assert.NotEqual(lost.RefreshToken, retry.RefreshToken);
        Assert.False((await Client.IntrospectAsync(lost.RefreshToken, "postman", "postman-secret")).Body.GetProperty("active").GetBoolean());
        Assert.False((await Client.IntrospectAsync(lost.AccessToken)).Body.GetProperty("active").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await Client.RefreshAsync(retry.RefreshToken)).Status);
    }

    [Fact]
    public async Task Reuse_OutsideLeeway_RevokesTheFamilyAndLogsASecurityWarning()
    {
        var first = await Client.PasswordAsync();
        var second = await Client.RefreshAsync(first.RefreshToken);
        factory.Time.Advance(TimeSpan.FromSeconds(31));

        var replay = await Client.RefreshAsync(first.RefreshToken);

        Assert.Equal("invalid_grant", replay.Error);
        Assert.Equal("invalid_grant", (await Client.RefreshAsync(second.RefreshToken)).Error);
        var family = Jwt.Payload(first.AccessToken).GetProperty("oi_au_id").GetString()!;
        var warning = factory.Logs.At(LogEventLevel.Warning).First(line => line.Contains(family, StringComparison.Ordinal));
        Assert.Contains("Security", warning);
        Assert.Contains("postman", warning);
        Assert.Contains(Jwt.Payload(first.AccessToken).GetProperty("sub").GetString()!, warning);
        Assert.DoesNotContain(first.RefreshToken, warning);
    }

    [Fact]
    public async Task Reuse_OfAnOlderTokenThanTheLatestSpent_RevokesTheFamilyEvenWithinLeeway()
    {
        var first = await Client.PasswordAsync();
        var second = await Client.RefreshAsync(first.RefreshToken);
        var third = await Client.RefreshAsync(second.RefreshToken);

        Assert.Equal("invalid_grant", (await Client.RefreshAsync(first.RefreshToken)).Error);
        Assert.Equal("invalid_grant", (await Client.RefreshAsync(third.RefreshToken)).Error);
    }

    [Fact]
    public async Task Retry_OfTheLatestSpentToken_IsAllowedEvenWhenAnOlderOneExists()
    {
        var first = await Client.PasswordAsync();
        var second = await Client.RefreshAsync(first.RefreshToken);
        var lost = await Client.RefreshAsync(second.RefreshToken);

        var retry = await Client.RefreshAsync(second.RefreshToken);

        Assert.True(retry.Status == HttpStatusCode.OK, retry.ToString());
        Assert.False((await Client.IntrospectAsync(lost.AccessToken)).Body.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task ConcurrentRetries_WithinLeeway_LeaveAtMostOneLiveRefreshTokenAndNo5xx()
    {
        var first = await Client.PasswordAsync();
        await Client.RefreshAsync(first.RefreshToken);

        var responses = await Race.RunAsync(8, () => Client.RefreshAsync(first.RefreshToken));

        Assert.All(responses, response => Assert.True((int)response.Status < 500, response.ToString()));
        Assert.All(responses.Where(response => response.Status != HttpStatusCode.OK), response => Assert.Equal("invalid_grant", response.Error));

        // Retries that happen to run one after another each replace the previous one's successor; whatever the
        // interleaving, the family never has more than one live refresh token.
        var live = 0;
        foreach (var winner in responses.Where(response => response.Status == HttpStatusCode.OK))
        {
            live += (await Client.IntrospectAsync(winner.RefreshToken, "postman", "postman-secret")).Body.GetProperty("active").GetBoolean() ? 1 : 0;
        }

        Assert.True(live <= 1, $"{live} live refresh tokens");
    }

    [Fact]
    public async Task RacesBetweenAWinnerAndReplays_NeverAnswer5xx()
    {
        // A replay revokes the family while the winner is still storing its new tokens; OpenIddict's write of those
        // rows then fails its concurrency check. That used to escape as a 500 (about once in ten rounds here).
        for (var round = 0; round < 15; round++)
        {
            var first = await Client.PasswordAsync();
            await Client.RefreshAsync(first.RefreshToken);
            var retries = await Race.RunAsync(8, () => Client.RefreshAsync(first.RefreshToken));
            var fresh = await Client.PasswordAsync();
            var racers = await Race.RunAsync(12, () => Client.RefreshAsync(fresh.RefreshToken));

            Assert.All(retries.Concat(racers), response => Assert.True((int)response.Status < 500, response.ToString()));
            Assert.All(retries.Concat(racers).Where(response => response.Status != HttpStatusCode.OK), response => Assert.Equal("invalid_grant", response.Error));
        }
    }

    public void Dispose() => factory.Dispose();
}
