using System.Net;

namespace IdentityHost.Tests.AuthorizationCode;

/// <summary>RP-initiated logout ends the browser session and revokes the families that session created.</summary>
public sealed class EndSessionTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task EndSession_RedirectsToTheRegisteredUri_AndRevokesTheSessionsRefreshTokens()
    {
        var browser = new BrowserSession(factory);
        var tokens = await browser.RedeemAsync(BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!);
        var otherDevice = new BrowserSession(factory);
        var otherTokens = await otherDevice.RedeemAsync(BrowserSession.QueryValue(await otherDevice.AuthorizeAsync(), "code")!);

        using var response = await browser.Http.GetAsync(
            $"/connect/endsession?id_token_hint={tokens["id_token"]}&post_logout_redirect_uri={Uri.EscapeDataString("http://localhost:5002/")}&state=bye");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://localhost:5002/", response.Headers.Location!.AbsoluteUri);
        Assert.Equal("bye", BrowserSession.QueryValue(response.Headers.Location, "state"));
        var client = new TokenClient(browser.Http);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(tokens.RefreshToken, "spa", null)).Error);
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(otherTokens.RefreshToken, "spa", null)).Status);

        // The session cookie is gone: authorizing again goes through the login page.
        using var again = await browser.Http.GetAsync(browser.AuthorizeUrl());
        Assert.Contains("/account/login", again.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task EndSession_UnregisteredPostLogoutUri_IsRefusedWithoutRedirect()
    {
        var browser = new BrowserSession(factory);
        var tokens = await browser.RedeemAsync(BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!);

        using var response = await browser.Http.GetAsync(
            $"/connect/endsession?id_token_hint={tokens["id_token"]}&post_logout_redirect_uri={Uri.EscapeDataString("https://attacker.example/")}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task EndSession_WithoutRedirectUri_ShowsTheSignedOutPage()
    {
        var browser = new BrowserSession(factory);
        await browser.AuthorizeAsync();

        using var response = await browser.Http.GetAsync("/connect/endsession");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/account/signed-out", response.Headers.Location!.OriginalString);
    }
}
