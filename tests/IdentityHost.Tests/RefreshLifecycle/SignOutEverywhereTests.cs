using System.Net;

namespace IdentityHost.Tests.RefreshLifecycle;

/// <summary>Signing a user out everywhere: by the operator command, and by a security-stamp change.</summary>
public sealed class SignOutEverywhereTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task RevokeCommand_EndsEveryFamilyOfTheUser_AndNoOneElses()
    {
        var user = await factory.CreateUserAsync();
        var laptop = await client.PasswordAsync(username: user);
        var phone = await client.PasswordAsync(username: user, scope: "offline_access api", clientId: "web", secret: null);
        var bystander = await client.PasswordAsync(username: "bob");

        using var command = ServerProcess.Start("IdentityHost", new Dictionary<string, string?>
        {
            ["Database__Provider"] = factory.Folder.Provider,
            ["ConnectionStrings__IdentityHost"] = factory.ConnectionString,
            ["IdentityHost__KeysPath"] = factory.Folder.KeysPath,
        }, "revoke", "--user", user);
        Assert.Equal(0, await command.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("out everywhere", command.Output);

        Assert.Equal("invalid_grant", (await client.RefreshAsync(laptop.RefreshToken)).Error);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(phone.RefreshToken, clientId: "web", secret: null)).Error);
        Assert.False((await client.IntrospectAsync(laptop.AccessToken)).Body.GetProperty("active").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(bystander.RefreshToken)).Status);
    }

    [Fact]
    public async Task RevokeCommand_UnknownUser_ExitsWithAnError()
    {
        _ = factory.Services;
        using var command = ServerProcess.Start("IdentityHost", new Dictionary<string, string?>
        {
            ["Database__Provider"] = factory.Folder.Provider,
            ["ConnectionStrings__IdentityHost"] = factory.ConnectionString,
            ["IdentityHost__KeysPath"] = factory.Folder.KeysPath,
        }, "revoke", "--user", "nobody-at-all");

        Assert.Equal(2, await command.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("nobody-at-all", command.Output);
    }

    [Fact]
    public async Task PasswordChange_EndsEveryRefreshChainOfTheUser()
    {
        var user = await factory.CreateUserAsync();
        var tokens = await client.PasswordAsync(username: user);

        await factory.WithUserAsync(user, (users, entity) => users.ChangePasswordAsync(entity, TokenClient.Password, "N3w-Passw0rd!"));

        Assert.Equal("invalid_grant", (await client.RefreshAsync(tokens.RefreshToken)).Error);
        Assert.Equal(HttpStatusCode.OK, (await client.PasswordAsync(username: user, password: "N3w-Passw0rd!")).Status);
    }
}
