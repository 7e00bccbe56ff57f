using System.Text.Json;
using IdentityHost.Audit;

namespace IdentityHost.Tests.Audit;

/// <summary>The contract's command line, as a real process on the server's database.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly IdentityHostFactory factory = new();

    [Fact]
    public async Task AuditUserJson_AfterAReplay_PrintsAReplayLineWithTheFamilyId()
    {
        var client = factory.CreateTokenClient();
        var user = await factory.CreateUserAsync();
        var first = await client.PasswordAsync(username: user);
        await client.RefreshAsync(first.RefreshToken);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(first.RefreshToken)).Error);
        var family = Assert.Single(await AuditTestKit.FamilyIdsAsync(factory, user));
        await AuditTestKit.RowsAsync(factory);

        using var command = ServerProcess.Start("IdentityHost", new Dictionary<string, string?>
        {
            ["Database__Provider"] = factory.Folder.Provider,
            ["ConnectionStrings__IdentityHost"] = factory.ConnectionString,
            ["IdentityHost__KeysPath"] = factory.Folder.KeysPath,
        }, "audit", "--user", user, "--json");
        Assert.Equal(0, await command.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        // Standard output is the events and nothing else (log lines go to standard error): `| jq` works.
        var lines = command.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var replay = Assert.Single(lines, line => line.GetProperty("type").GetString()!.Contains("replay", StringComparison.Ordinal));
        Assert.Equal(family, replay.GetProperty("family_id").GetString());
        Assert.Equal("postman", replay.GetProperty("client_id").GetString());
        Assert.Equal(4, lines.Count);
    }

    [Fact]
    public async Task AdministratorCommands_AreAudited_KeyRotationAndUserLock()
    {
        var client = factory.CreateTokenClient();
        var user = await factory.CreateUserAsync();
        await client.PasswordAsync(username: user);

        var rotate = await RunAsync("keys", "rotate");
        var locked = await RunAsync("users", "lock", user);

        Assert.Equal((0, 0), (rotate.ExitCode, locked.ExitCode));
        var rows = await AuditTestKit.RowsAsync(factory);
        var kid = Assert.Single(rows, row => row.Type == AuditEventTypes.SigningKeyRotated.Name).Detail;
        Assert.Contains(kid![4..], rotate.Output);
        var subject = await AuditTestKit.UserIdAsync(factory, user);
        Assert.Equal(subject, Assert.Single(rows, row => row.Type == AuditEventTypes.UserLocked.Name).Subject);
        var signedOut = Assert.Single(rows, row => row.Type == AuditEventTypes.SignedOutEverywhere.Name);
        Assert.Equal(subject, signedOut.Subject);
        Assert.StartsWith("reason=admin families=1 tokens=", signedOut.Detail);
    }

    private async Task<(int? ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        using var command = ServerProcess.Start("IdentityHost", new Dictionary<string, string?>
        {
            ["Database__Provider"] = factory.Folder.Provider,
            ["ConnectionStrings__IdentityHost"] = factory.ConnectionString,
            ["IdentityHost__KeysPath"] = factory.Folder.KeysPath,
        }, arguments);
        return (await command.WaitForExitAsync(TimeSpan.FromSeconds(60)), command.Output);
    }

    public void Dispose() => factory.Dispose();
}
