using System.Net;
using System.Net.Http.Json;
using IdentityHost.Audit;

namespace IdentityHost.Tests.Audit;

/// <summary>Failed sign-ins and client authentications leave no password or secret in the audit trail.</summary>
public sealed class AuditSecrecyTests : IDisposable
{
    private readonly IdentityHostFactory factory = new();

    [Fact]
    public async Task FailedSignIns_AndAWrongClientSecret_WriteNoSecretOrPasswordToAuditRows()
    {
        const string WrongPassword = "Wrong-Audit-Password-1!";
        const string UnknownUsersPassword = "Unknown-User-Password-2!";
        const string WrongSecret = "not-the-postman-secret-3";
        const string FacadePassword = "Wrong-Facade-Password-4!";
        const string LoginPassword = "Wrong-Login-Password-5!";
        var client = factory.CreateTokenClient();
        var user = await factory.CreateUserAsync();

        Assert.Equal("invalid_grant", (await client.PasswordAsync(username: user, password: WrongPassword)).Error);
        Assert.Equal("invalid_grant", (await client.PasswordAsync(username: "no-such-user", password: UnknownUsersPassword)).Error);
        Assert.Equal("invalid_client", (await client.PasswordAsync(username: user, secret: WrongSecret)).Error);
        using var facade = await client.Http.PostAsJsonAsync("/api/token", new { username = user, password = FacadePassword });
        Assert.Equal(HttpStatusCode.BadRequest, facade.StatusCode);
        var browser = new BrowserSession(factory);
        using var login = await browser.Http.GetAsync(browser.AuthorizeUrl());
        Assert.Equal(HttpStatusCode.OK, (await browser.SubmitLoginAsync(login.Headers.Location!.OriginalString, user, LoginPassword)).StatusCode);

        var rows = await AuditTestKit.RowsAsync(factory);
        var texts = await AuditTestKit.RowTextsAsync(factory);
        string[] secrets = [WrongPassword, UnknownUsersPassword, WrongSecret, FacadePassword, LoginPassword, TokenClient.Password, "postman-secret"];
        Assert.Empty(from text in texts from secret in secrets where text.Contains(secret, StringComparison.Ordinal) select $"{secret} in {text}");

        // Each failure is there, under the user's id (never the user name) and with the path it came in by.
        var subject = await AuditTestKit.UserIdAsync(factory, user);
        Assert.Equal(["path=password_grant reason=invalid_credentials", "path=json_facade reason=invalid_credentials", "path=login_page reason=invalid_credentials"],
            rows.Where(row => row.Type == AuditEventTypes.SignInFailed.Name && row.Subject == subject).Select(row => row.Detail));
        Assert.DoesNotContain(texts, text => text.Contains(user, StringComparison.Ordinal));
        Assert.Equal("spa", rows.Last(row => row.Type == AuditEventTypes.SignInFailed.Name).ClientId);
    }

    [Fact]
    public async Task UnknownUser_TheTypedNameIsStoredNowhere_ItMayBeAPassword()
    {
        var client = factory.CreateTokenClient();
        var typed = "Pass123$-typed-into-the-user-name-field";

        Assert.Equal("invalid_grant", (await client.PasswordAsync(username: typed)).Error);

        var failed = Assert.Single(await AuditTestKit.RowsAsync(factory), row => row.Type == AuditEventTypes.SignInFailed.Name);
        Assert.Null(failed.Subject);
        Assert.Equal("path=password_grant reason=unknown_user", failed.Detail);
        Assert.DoesNotContain(await AuditTestKit.RowTextsAsync(factory), text => text.Contains(typed, StringComparison.Ordinal));
        Assert.DoesNotContain(factory.Logs.Full, line => line.Contains(typed, StringComparison.Ordinal));
    }

    public void Dispose() => factory.Dispose();
}
