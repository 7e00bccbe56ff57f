using System.Net;
using System.Text.RegularExpressions;

namespace IdentityHost.Tests.AuthorizationCode;

/// <summary>
/// RP-initiated logout ends the browser session and revokes the families that session created: at once with a valid
/// id_token_hint for that session, otherwise only after the user confirms on a page protected by antiforgery.
/// </summary>
public sealed class EndSessionTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private const string PostLogoutUri = "http://localhost:5002/";

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
    public async Task EndSession_WithHintAndWithoutRedirectUri_ShowsTheSignedOutPage()
    {
        var browser = new BrowserSession(factory);
        var tokens = await browser.RedeemAsync(BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!);

        using var response = await browser.Http.GetAsync($"/connect/endsession?id_token_hint={tokens["id_token"]}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/account/signed-out", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task EndSession_WithoutSession_HasNothingToEnd_AndRedirectsAtOnce()
    {
        var browser = new BrowserSession(factory);

        using var response = await browser.Http.GetAsync($"/connect/endsession?post_logout_redirect_uri={Uri.EscapeDataString(PostLogoutUri)}&state=bye");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("bye", BrowserSession.QueryValue(response.Headers.Location!, "state"));
    }

    [Fact]
    public async Task EndSession_WithoutHint_AsksForConfirmation_AndEndsNothing()
    {
        var browser = new BrowserSession(factory);
        var tokens = await browser.RedeemAsync(BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!);

        // What another site can make a signed-in browser do: a top-level GET without id_token_hint.
        using var response = await browser.Http.GetAsync($"/connect/endsession?post_logout_redirect_uri={Uri.EscapeDataString(PostLogoutUri)}&state=bye");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("id=\"sign-out-form\"", page);
        Assert.Contains("__RequestVerificationToken", page);
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options"))); // no clickjacking of the button
        await AssertSessionAliveAsync(browser, tokens);
    }

    [Fact]
    public async Task EndSession_HintFromAnotherSession_AsksForConfirmation()
    {
        var attacker = new BrowserSession(factory);
        var attackerTokens = await attacker.RedeemAsync(BrowserSession.QueryValue(await attacker.AuthorizeAsync("bob"), "code")!);
        var victim = new BrowserSession(factory);
        var victimTokens = await victim.RedeemAsync(BrowserSession.QueryValue(await victim.AuthorizeAsync(), "code")!);

        using var response = await victim.Http.GetAsync($"/connect/endsession?id_token_hint={attackerTokens["id_token"]}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await AssertSessionAliveAsync(victim, victimTokens);
    }

    [Fact]
    public async Task EndSession_ConfirmedWithAntiforgeryToken_EndsTheSession_AndRedirectsWithState()
    {
        var browser = new BrowserSession(factory);
        var tokens = await browser.RedeemAsync(BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!);
        var (action, form) = await ConfirmationFormAsync(browser);

        using var response = await browser.Http.PostAsync(action, new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(PostLogoutUri, response.Headers.Location!.AbsoluteUri);
        Assert.Equal("bye", BrowserSession.QueryValue(response.Headers.Location, "state"));
        Assert.Equal("invalid_grant", (await new TokenClient(browser.Http).RefreshAsync(tokens.RefreshToken, "spa", null)).Error);
        using var again = await browser.Http.GetAsync(browser.AuthorizeUrl());
        Assert.Contains("/account/login", again.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task EndSession_ConfirmationWithoutAntiforgeryToken_IsRefused_AndEndsNothing()
    {
        var browser = new BrowserSession(factory);
        var tokens = await browser.RedeemAsync(BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!);
        var (action, form) = await ConfirmationFormAsync(browser);
        form.Remove("__RequestVerificationToken");

        using var response = await browser.Http.PostAsync(action, new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertSessionAliveAsync(browser, tokens);
    }

    /// <summary>GETs the confirmation page (no id_token_hint) and returns its form: action and fields.</summary>
    private static async Task<(string Action, Dictionary<string, string> Form)> ConfirmationFormAsync(BrowserSession browser)
    {
        var page = await browser.Http.GetStringAsync($"/connect/endsession?post_logout_redirect_uri={Uri.EscapeDataString(PostLogoutUri)}&state=bye");
        var action = WebUtility.HtmlDecode(Regex.Match(page, "<form[^>]* action=\"([^\"]+)\"").Groups[1].Value);
        var form = Regex.Matches(page, "<input[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"")
            .ToDictionary(match => match.Groups[1].Value, match => WebUtility.HtmlDecode(match.Groups[2].Value));
        Assert.Equal(PostLogoutUri, form["post_logout_redirect_uri"]);
        return (action, form);
    }

    /// <summary>The browser is still signed in (a new code without the login page) and the session's family refreshes.</summary>
    private static async Task AssertSessionAliveAsync(BrowserSession browser, ProtocolResponse tokens)
    {
        Assert.Equal(HttpStatusCode.OK, (await new TokenClient(browser.Http).RefreshAsync(tokens.RefreshToken, "spa", null)).Status);
        Assert.NotNull(BrowserSession.QueryValue(await browser.AuthorizeAsync(userName: "nobody", password: "wrong"), "code"));
    }
}
