using System.Net;
using System.Net.Http.Json;
using IdentityHost.Tests.Telemetry;

namespace IdentityHost.Tests.Abuse;

/// <summary>
/// Every log event written while the main protocol flows run — message, properties and exception, as the JSON console
/// would write them — is searched for the tokens, codes, client secrets and passwords those flows used.
/// </summary>
public sealed class SecretsInLogsTests
{
    private const string WrongLoginPassword = "Wrong-Login-987!";
    private const string WrongGrantPassword = "Wrong-Grant-654?";
    private const string WrongClientSecret = "not-the-postman-secret";

    [Fact]
    public async Task ProtocolFlows_AtTheConfiguredLevels_NeverLogTokensCodesSecretsOrPasswords()
    {
        var capture = new TelemetryCapture();
        using var factory = new IdentityHostFactory { Settings = new(TelemetryCapture.TracingSettings), ServiceOverrides = capture.AddInMemoryExporter };

        await AssertNoSecretLoggedAsync(factory, capture);
    }

    [Fact]
    public async Task ProtocolFlows_EvenWithEverythingAtVerbose_NeverLogTokensCodesSecretsOrPasswords()
    {
        // At Verbose OpenIddict logs every token it creates and ASP.NET Core every request URL: those sources are filtered.
        var capture = new TelemetryCapture();
        using var factory = new IdentityHostFactory
        {
            ServiceOverrides = capture.AddInMemoryExporter,
            Settings = new(TelemetryCapture.TracingSettings)
            {
                ["Serilog:MinimumLevel:Default"] = "Verbose",
                ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Verbose",
                ["Serilog:MinimumLevel:Override:Microsoft.EntityFrameworkCore"] = "Verbose",
                ["Serilog:MinimumLevel:Override:OpenIddict"] = "Verbose",
            },
        };

        await AssertNoSecretLoggedAsync(factory, capture);
    }

    private static async Task AssertNoSecretLoggedAsync(IdentityHostFactory factory, TelemetryCapture capture)
    {
        var client = factory.CreateTokenClient();
        var secrets = new List<string>
        {
            "postman-secret", "service-secret", "sample-api-secret", TokenClient.Password,
            WrongLoginPassword, WrongGrantPassword, WrongClientSecret,
        };

        // Password, refresh, reuse detection (revokes the family), client_credentials, introspection, revocation.
        var first = Collect(secrets, await client.PasswordAsync(scope: "openid profile email offline_access api"));
        var second = Collect(secrets, await client.RefreshAsync(first.RefreshToken));
        Assert.Equal("invalid_grant", (await client.RefreshAsync(first.RefreshToken)).Error);
        Collect(secrets, await client.ClientCredentialsAsync());
        Assert.Equal(HttpStatusCode.OK, (await client.IntrospectAsync(second.AccessToken)).Status);
        var revoked = Collect(secrets, await client.PasswordAsync(username: "bob"));
        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(revoked.RefreshToken)).Status);

        // Failures: a wrong password, a wrong client secret.
        Assert.Equal("invalid_grant", (await client.PasswordAsync(password: WrongGrantPassword)).Error);
        Assert.Equal("invalid_client", (await client.PasswordAsync(secret: WrongClientSecret)).Error);

        // The JSON facade.
        using var facade = await client.Http.PostAsJsonAsync("/api/token", new { username = "alice", password = TokenClient.Password });
        var facadeTokens = await facade.Content.ReadFromJsonAsync<Dictionary<string, object>>();
        secrets.Add(facadeTokens!["access_token"].ToString()!);
        secrets.Add(facadeTokens["refresh_token"].ToString()!);
        using var facadeRefresh = await client.Http.PostAsJsonAsync("/api/token/refresh", new { refresh_token = facadeTokens["refresh_token"].ToString() });
        Assert.Equal(HttpStatusCode.OK, facadeRefresh.StatusCode);
        secrets.AddRange((await facadeRefresh.Content.ReadFromJsonAsync<Dictionary<string, object>>())!.Values.Select(value => value.ToString()!).Where(value => value.Length > 20));

        // The code flow through the login page (one wrong password first), userinfo, and logout with id_token_hint.
        var browser = new BrowserSession(factory);
        using var login = await browser.Http.GetAsync(browser.AuthorizeUrl());
        Assert.Equal(HttpStatusCode.OK, (await browser.SubmitLoginAsync(login.Headers.Location!.OriginalString, "alice", WrongLoginPassword)).StatusCode);
        var code = BrowserSession.QueryValue(await browser.AuthorizeAsync(), "code")!;
        secrets.Add(code);
        secrets.Add(browser.CodeVerifier);
        var spa = Collect(secrets, await browser.RedeemAsync(code));
        using var userInfo = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo") { Headers = { { "Authorization", "Bearer " + spa.AccessToken } } };
        Assert.Equal(HttpStatusCode.OK, (await browser.Http.SendAsync(userInfo)).StatusCode);
        using var logout = await browser.Http.GetAsync($"/connect/endsession?id_token_hint={spa["id_token"]}&post_logout_redirect_uri={Uri.EscapeDataString("http://localhost:5002/")}");
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);

        var lines = factory.Logs.Full.ToList();
        Assert.True(lines.Any(line => line.Contains("\"/connect/token\" responded 200", StringComparison.Ordinal)) &&
            lines.Any(line => line.Contains("reason Replay", StringComparison.Ordinal)),
            "The request lines and the replay warning should have been captured:\n" + string.Join("\n", lines.Select(line => line.Split('\n')[0])));
        // Audit rows (sign-ins, families, the replay, revocations, the logout) follow the same rule.
        lines.AddRange(await Audit.AuditTestKit.RowTextsAsync(factory));

        // Metrics and traces too: the /metrics text, and every span's name, attributes and events.
        lines.AddRange((await TelemetryCapture.ScrapeAsync(factory.CreateClient())).Split('\n'));
        Assert.Contains(capture.Finished(), span => span.DisplayName == IdentityHost.Telemetry.TokenEndpointTelemetry.TokenRequestSpan);
        lines.AddRange(capture.SpanLines());
        var leaks = (from line in lines
                     from secret in secrets.SelectMany(Fragments).Distinct()
                     where line.Contains(secret, StringComparison.Ordinal)
                     select $"{secret[..Math.Min(12, secret.Length)]}… in: {line}").ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} secret(s) logged:\n" + string.Join("\n", leaks.Take(5)));
    }

    /// <summary>Records every token of a token response as a secret.</summary>
    private static ProtocolResponse Collect(List<string> secrets, ProtocolResponse response)
    {
        Assert.Equal(HttpStatusCode.OK, response.Status);
        secrets.AddRange(new[] { response["access_token"], response["refresh_token"], response["id_token"] }.OfType<string>());
        return response;
    }

    /// <summary>The secret, and for a JWT its payload and signature alone: a logged fragment is a leak too.</summary>
    private static IEnumerable<string> Fragments(string secret) =>
        secret.Split('.') is { Length: 3 } parts ? [secret, parts[1], parts[2]] : [secret];
}
