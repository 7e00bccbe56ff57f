using System.Net;

namespace IdentityHost.Tests.RefreshCore;

/// <summary>RFC 6749 §4.1.2: a code redeemed twice revokes the tokens issued with it, even when both redemptions race.</summary>
public sealed class CodeReplayRaceTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task RacingRedemptionsOfOneCode_OneWins_AndTheWinnersTokensAreRevoked()
    {
        var browser = new BrowserSession(factory);
        var code = BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!;

        var answers = await Race.RunAsync(4, () => browser.RedeemAsync(code));

        var winner = Assert.Single(answers, answer => answer.Status == HttpStatusCode.OK);
        Assert.All(answers.Where(answer => answer != winner), answer => Assert.Equal("invalid_grant", answer.Error));
        var client = new TokenClient(browser.Http);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(winner.RefreshToken, "spa", null)).Error);
        Assert.False((await client.IntrospectAsync(winner.AccessToken)).Body.GetProperty("active").GetBoolean());
    }
}
