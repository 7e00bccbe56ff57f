using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace IdentityHost.Tests.RealClients;

/// <summary>
/// The sample SPA in a real Chromium against IdentityHost and SampleApi running as real processes: sign-in through the
/// login page, a call to each API endpoint, an access token that expires, two parallel API calls that share one
/// refresh (also across two tabs), and logout. A screenshot is kept on failure.
/// </summary>
public sealed class SpaBrowserTests
{
    private const string Install = "apt-get install -y chromium";

    [RequiresToolFact("chromium", Install)]
    public async Task Spa_SignsIn_RefreshesOnceForParallel401s_AndSignsOut()
    {
        using var stack = await RunningStack.StartAsync(options =>
        {
            options.IdentityHostEnvironment["IdentityHost__Clients__spa__RedirectUris__0"] = options.SampleApiUrl + "/callback.html";
            options.IdentityHostEnvironment["IdentityHost__Clients__spa__PostLogoutRedirectUris__0"] = options.SampleApiUrl + "/";
            options.IdentityHostEnvironment["IdentityHost__Clients__spa__AccessTokenLifetime"] = "00:00:02";
            options.SampleApiEnvironment["SampleApi__ClockSkew"] = "00:00:00";
        });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ExternalTool.Require("chromium", Install),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var refreshes = 0;
        context.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/connect/token", StringComparison.Ordinal) &&
                (request.PostData ?? "").Contains("grant_type=refresh_token", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref refreshes);
            }
        };

        try
        {
            // Sign in through the real login page.
            await page.GotoAsync(stack.SampleApiUrl + "/");
            await page.ClickAsync("#sign-in");
            await page.WaitForURLAsync("**/account/login**");
            await page.FillAsync("#UserName", "alice");
            await page.FillAsync("#Password", TokenClient.Password);
            await page.ClickAsync("#sign-in");
            await page.WaitForURLAsync(stack.SampleApiUrl + "/");
            await Expect(page.Locator("#user-name")).ToHaveTextAsync("alice");
            await Expect(page.Locator("#status")).ToHaveTextAsync("API call succeeded");
            Assert.Contains("\"client_id\": \"spa\"", await page.Locator("#result").TextContentAsync());

            // Let the 2-second access token expire, then fire two API calls at once: one refresh serves both.
            await WaitForExpiryAsync(page);
            await page.ClickAsync("#call-api-twice");
            await Expect(page.Locator("#status")).ToHaveTextAsync("API call succeeded");
            Assert.Equal(1, Volatile.Read(ref refreshes));
            var results = JsonDocument.Parse((await page.Locator("#result").TextContentAsync())!).RootElement;
            Assert.All(results.EnumerateArray(), result => Assert.Equal(200, result.GetProperty("status").GetInt32()));

            // Two tabs, each calling twice after expiry: still a single refresh (Web Locks + re-reading the tokens).
            var secondTab = await context.NewPageAsync();
            await secondTab.GotoAsync(stack.SampleApiUrl + "/");
            await Expect(secondTab.Locator("#status")).ToHaveTextAsync("API call succeeded");
            await WaitForExpiryAsync(page);
            var before = Volatile.Read(ref refreshes);
            await Task.WhenAll(page.ClickAsync("#call-api-twice"), secondTab.ClickAsync("#call-api-twice"));
            await Expect(page.Locator("#status")).ToHaveTextAsync("API call succeeded");
            await Expect(secondTab.Locator("#status")).ToHaveTextAsync("API call succeeded");
            Assert.Equal(before + 1, Volatile.Read(ref refreshes));

            // The SPA asked for api.write too: POST /api/echo sends its JSON body back (refreshing first if need be).
            await page.ClickAsync("#call-echo");
            await Expect(page.Locator("#result")).ToContainTextAsync("Hello from the SPA");
            await Expect(page.Locator("#status")).ToHaveTextAsync("API call succeeded");

            // DPoP: the tokens are bound to the page's non-extractable key; the refresh token copied out of storage is
            // refused without the key (and that refusal spends nothing: the page still refreshes afterwards).
            var stored = await page.EvaluateAsync<JsonElement>("async () => { const t = await (await import('/oidc.js')).tokens(); return { type: t.token_type, access: t.access_token, refresh: t.refresh_token }; }");
            Assert.Equal("DPoP", stored.GetProperty("type").GetString());
            Assert.NotNull(DpopRequests.BoundKey(stored.GetProperty("access").GetString()!));
            using (var thief = new HttpClient { BaseAddress = new Uri(stack.IdentityHostUrl + "/") })
            {
                var stolen = await new TokenClient(thief).RefreshAsync(stored.GetProperty("refresh").GetString()!, "spa", null);
                Assert.Equal("invalid_grant", stolen.Error);
                Assert.Contains("bound to a DPoP key", stolen["error_description"]);
            }

            Assert.False(await page.EvaluateAsync<bool>("async () => { const k = await new Promise(r => { const q = indexedDB.open('identityhost'); q.onsuccess = () => { const g = q.result.transaction('tokens').objectStore('tokens').get('dpop-key'); g.onsuccess = () => r(g.result); }; }); return k.privateKey.extractable; }"));
            await WaitForExpiryAsync(page);
            await page.ClickAsync("#call-api");
            await Expect(page.Locator("#status")).ToHaveTextAsync("API call succeeded");

            // Sign out: back on the SPA, signed out, and the session's refresh token no longer works.
            var refreshToken = await page.EvaluateAsync<string>("async () => (await (await import('/oidc.js')).tokens()).refresh_token");
            await page.ClickAsync("#sign-out");
            await page.WaitForURLAsync(stack.SampleApiUrl + "/");
            await Expect(page.Locator("#sign-in")).ToBeVisibleAsync();
            using var http = new HttpClient { BaseAddress = new Uri(stack.IdentityHostUrl + "/") };
            Assert.Equal("invalid_grant", (await new TokenClient(http).RefreshAsync(refreshToken, "spa", null)).Error);
        }
        catch (Exception ex)
        {
            var screenshot = Path.Combine(AppContext.BaseDirectory, $"spa-failure-{DateTime.UtcNow:yyyyMMddHHmmss}.png");
            await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
            throw new InvalidOperationException($"{ex.Message}\nScreenshot: {screenshot}\n{stack.Logs}", ex);
        }
    }

    /// <summary>Waits (in short steps) until the stored access token's <c>exp</c> has passed.</summary>
    private static async Task WaitForExpiryAsync(IPage page)
    {
        var exp = await page.EvaluateAsync<long>(
            "async () => JSON.parse(atob((await (await import('/oidc.js')).tokens()).access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).exp");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() <= (exp * 1000) + 200)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token);
        }
    }
}
