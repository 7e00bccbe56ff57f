using System.Net;

namespace IdentityHost.Tests.AuthorizationCode;

/// <summary>Authorization code + PKCE through the real login page, as a browser and an SPA would do it.</summary>
public sealed class AuthorizationCodeFlowTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task CodeFlow_SignsInThroughTheLoginPage_AndIssuesTokens()
    {
        var browser = new BrowserSession(factory);

        var redirect = await browser.AuthorizeAsync();

        Assert.StartsWith(BrowserSession.SpaRedirectUri, redirect.AbsoluteUri);
        Assert.Equal("state-123", BrowserSession.QueryValue(redirect, "state"));
        var tokens = await browser.RedeemAsync(BrowserSession.QueryValue(redirect, "code")!);
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        var claims = Jwt.Payload(tokens.AccessToken);
        Assert.Equal("spa", claims.GetProperty("client_id").GetString());
        Assert.Equal("sample-api", claims.GetProperty("aud").GetString());
        var idToken = Jwt.Payload(tokens["id_token"]!);
        Assert.Equal("alice", idToken.GetProperty("preferred_username").GetString());
        Assert.False(string.IsNullOrEmpty(idToken.GetProperty("sid").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await new TokenClient(browser.Http).RefreshAsync(tokens.RefreshToken, "spa", null)).Status);
    }

    [Fact]
    public async Task SecondAuthorization_ReusesTheSession_WithoutTheLoginPage()
    {
        var browser = new BrowserSession(factory);
        await browser.AuthorizeAsync();

        using var response = await browser.Http.GetAsync(browser.AuthorizeUrl());

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(BrowserSession.SpaRedirectUri, response.Headers.Location!.AbsoluteUri);
    }

    [Fact]
    public async Task WrongCodeVerifier_ReturnsInvalidGrant()
    {
        var browser = new BrowserSession(factory);
        var code = BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!;

        var response = await browser.RedeemAsync(code, verifier: new string('x', 43));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("invalid_grant", response.Error);
    }

    [Fact]
    public async Task CodeReplay_IsRefused_AndRevokesTheTokensIssuedWithIt()
    {
        var browser = new BrowserSession(factory);
        var code = BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!;
        var tokens = await browser.RedeemAsync(code);

        var replay = await browser.RedeemAsync(code);

        Assert.Equal("invalid_grant", replay.Error);
        Assert.Equal("invalid_grant", (await new TokenClient(browser.Http).RefreshAsync(tokens.RefreshToken, "spa", null)).Error);
    }

    [Theory]
    [InlineData(null, null, "code_challenge")]
    [InlineData("plain-challenge-of-sufficient-length-0123456789", "plain", "code_challenge_method")]
    [InlineData(null, "S256", "code_challenge")]
    public async Task MissingOrPlainCodeChallenge_IsRefusedBeforeAnyLogin(string? challenge, string? method, string named)
    {
        var browser = new BrowserSession(factory);

        using var response = await browser.Http.GetAsync(browser.AuthorizeUrl(new() { ["code_challenge"] = challenge, ["code_challenge_method"] = method }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("invalid_request", body);
        Assert.Contains(named, body);
    }

    [Theory]
    [InlineData("client_id", "nobody")]
    [InlineData("redirect_uri", "http://localhost:5002/callback.html.evil")]
    [InlineData("redirect_uri", "https://attacker.example/callback.html")]
    public async Task UnknownClientOrRedirectUri_IsAnErrorPage_NeverARedirect(string parameter, string value)
    {
        var browser = new BrowserSession(factory);

        using var response = await browser.Http.GetAsync(browser.AuthorizeUrl(new() { [parameter] = value }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Contains("invalid_request", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PasswordOnlyClient_CannotUseTheCodeFlow()
    {
        var browser = new BrowserSession(factory);

        using var response = await browser.Http.GetAsync(browser.AuthorizeUrl(new() { ["client_id"] = "postman" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task PromptNone_WithoutSession_RedirectsWithLoginRequired()
    {
        var browser = new BrowserSession(factory);

        using var response = await browser.Http.GetAsync(browser.AuthorizeUrl(new() { ["prompt"] = "none" }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("login_required", BrowserSession.QueryValue(response.Headers.Location!, "error"));
    }

    [Fact]
    public async Task LoginPage_WrongPassword_ShowsAClearMessage()
    {
        var browser = new BrowserSession(factory);
        using var authorize = await browser.Http.GetAsync(browser.AuthorizeUrl());

        using var response = await browser.SubmitLoginAsync(authorize.Headers.Location!.OriginalString, "alice", "wrong");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("The user name or password is incorrect.", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LoginPage_RepeatedFailures_LockTheAccountOut()
    {
        var user = await factory.CreateUserAsync();
        var browser = new BrowserSession(factory);
        using var authorize = await browser.Http.GetAsync(browser.AuthorizeUrl());
        var login = authorize.Headers.Location!.OriginalString;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            (await browser.SubmitLoginAsync(login, user, "wrong")).Dispose();
        }

        using var response = await browser.SubmitLoginAsync(login, user, TokenClient.Password);

        Assert.Contains("temporarily locked", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LoginPage_WithoutAntiforgeryToken_IsRejected()
    {
        var browser = new BrowserSession(factory);

        using var response = await browser.Http.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = "alice",
            ["Password"] = TokenClient.Password,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [];
        Assert.DoesNotContain(cookies, cookie => cookie.StartsWith("IdentityHost.Session=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoginPage_NeverRedirectsOffSite()
    {
        var browser = new BrowserSession(factory);

        using var response = await browser.SubmitLoginAsync("/account/login?ReturnUrl=https%3A%2F%2Fattacker.example%2F", "alice", TokenClient.Password);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/account/signed-in", response.Headers.Location!.OriginalString);
    }
}
