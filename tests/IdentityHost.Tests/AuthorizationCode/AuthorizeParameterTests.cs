using System.Net;
using System.Text;

namespace IdentityHost.Tests.AuthorizationCode;

/// <summary>Odd but well-formed parameters on the authorization endpoint and the login page (cases found by the fuzz test).</summary>
public sealed class AuthorizeParameterTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task MaxAge_Exceeded_SendsTheBrowserBackToTheLoginPage()
    {
        var browser = new BrowserSession(factory);
        await browser.AuthorizeAsync();
        factory.Time.Advance(TimeSpan.FromSeconds(10));

        using var response = await browser.Http.GetAsync(browser.AuthorizeUrl(new() { ["max_age"] = "5" }));

        Assert.Contains("/account/login", response.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("922337203686")]
    public async Task MaxAge_TooLargeForATimeSpan_IssuesACode(string maxAge)
    {
        var browser = new BrowserSession(factory);
        await browser.AuthorizeAsync();

        using var response = await browser.Http.GetAsync(browser.AuthorizeUrl(new() { ["max_age"] = maxAge }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.NotNull(BrowserSession.QueryValue(response.Headers.Location!, "code"));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task LoginPage_FormKeyWithUnclosedBracket_IsNotAServerError(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "/account/login?x[=1")
        {
            Content = new StringContent("a[b=c&UserName=alice", Encoding.ASCII, "application/x-www-form-urlencoded"),
        };

        using var response = await factory.CreateClient().SendAsync(request);

        Assert.InRange((int)response.StatusCode, 200, 499);
    }
}
