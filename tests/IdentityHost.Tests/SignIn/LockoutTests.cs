using System.Net;
using IdentityHost.Accounts;
using IdentityHost.RefreshTokens;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.Tests.SignIn;

/// <summary>
/// A failed-password lock-out stops new sign-ins only; an administrator's lock (<c>-- users lock</c>) also ends refresh.
/// </summary>
public sealed class LockoutTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task FailedPasswordLockout_RefusesNewSignIns_ButExistingRefreshTokensKeepRefreshing()
    {
        var user = await factory.CreateUserAsync();
        var signedIn = await client.PasswordAsync(username: user);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            Assert.Equal("invalid_grant", (await client.PasswordAsync(username: user, password: "wrong")).Error);
        }

        var newSignIn = await client.PasswordAsync(username: user);
        Assert.Equal("invalid_grant", newSignIn.Error);
        Assert.Contains("locked", newSignIn["error_description"]);

        var first = await client.RefreshAsync(signedIn.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        var second = await client.RefreshAsync(first.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.True((await client.IntrospectAsync(second.AccessToken)).Body.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task LockCommand_EndsRefresh_AndUnlockCommand_LetsTheUserSignInAgain()
    {
        var user = await factory.CreateUserAsync();
        var signedIn = await client.PasswordAsync(username: user);

        var locked = await RunAsync("users", "lock", user);
        Assert.Equal(0, locked.ExitCode);
        Assert.Contains($"Locked {user}", locked.Output);

        Assert.Equal("invalid_grant", (await client.RefreshAsync(signedIn.RefreshToken)).Error);
        var refused = await client.PasswordAsync(username: user);
        Assert.Equal("invalid_grant", refused.Error);
        Assert.Equal("The account is locked by an administrator.", refused["error_description"]);

        var unlocked = await RunAsync("users", "unlock", user);
        Assert.Equal(0, unlocked.ExitCode);
        Assert.Contains($"Unlocked {user}", unlocked.Output);
        var again = await client.PasswordAsync(username: user);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(again.RefreshToken)).Status);
    }

    [Fact]
    public async Task LockCommand_UnknownUser_ExitsNonZeroWithOneLine()
    {
        _ = factory.Services;
        var run = await RunAsync("users", "lock", "nobody-at-all");

        Assert.Equal(2, run.ExitCode);
        // Besides the server's own log lines ("[10:00:00 INF] ..."), one line saying what is wrong.
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["No user named or with id 'nobody-at-all'."], lines.Where(line => !line.StartsWith('[')));
    }

    [Fact]
    public async Task AdministratorLock_EndsRefreshEvenWithoutAStampChange()
    {
        var user = await factory.CreateUserAsync();
        var signedIn = await client.PasswordAsync(username: user);
        await factory.WithUserAsync(user, (users, entity) => users.SetLockoutEndDateAsync(entity, DateTimeOffset.MaxValue));

        // A family begun after the stamp changed (a browser session the stamp check has not caught up with yet can
        // still get a code) ends too: the refresh grant refuses an administrator-locked user by the lock itself.
        Assert.Equal("invalid_grant", (await client.RefreshAsync(signedIn.RefreshToken)).Error);
    }

    [Fact]
    public async Task AdministratorLock_IsNotShortenedByWrongPasswords_AndOnlyTheRightPasswordHearsOfIt()
    {
        var user = await factory.CreateUserAsync();
        await factory.WithUserAsync(user, (users, entity) => users.SetLockoutEndDateAsync(entity, DateTimeOffset.MaxValue));

        for (var attempt = 0; attempt < 6; attempt++)
        {
            Assert.Equal("The username or password is incorrect.", (await client.PasswordAsync(username: user, password: "wrong"))["error_description"]);
        }

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var entity = (await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByNameAsync(user))!;
            Assert.True(AdministratorLock.IsLocked(entity));
            Assert.Equal(0, entity.AccessFailedCount);
        }

        Assert.Equal("The account is locked by an administrator.", (await client.PasswordAsync(username: user))["error_description"]);
    }

    [Fact]
    public async Task AdministratorLock_RevokesEveryFamily_AndRenewsTheSecurityStamp()
    {
        var user = await factory.CreateUserAsync();
        var signedIn = await client.PasswordAsync(username: user);
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var entity = (await users.FindByNameAsync(user))!;
        var stamp = entity.SecurityStamp;

        var families = await AdministratorLock.LockAsync(users, scope.ServiceProvider.GetRequiredService<TokenFamilies>(), entity);

        Assert.Equal(1L, families);
        Assert.NotEqual(stamp, (await users.FindByNameAsync(user))!.SecurityStamp);
        Assert.False((await client.IntrospectAsync(signedIn.AccessToken)).Body.GetProperty("active").GetBoolean());
    }

    private async Task<(int? ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        using var command = ServerProcess.Start("IdentityHost", new Dictionary<string, string?>
        {
            ["Database__Provider"] = factory.Folder.Provider,
            ["ConnectionStrings__IdentityHost"] = factory.ConnectionString,
            ["IdentityHost__KeysPath"] = factory.Folder.KeysPath,
        }, arguments);
        var exitCode = await command.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, command.Output);
    }
}
