using System.Net;
using System.Text.Json;
using IdentityHost.Audit;
using IdentityHost.Commands;

namespace IdentityHost.Tests.Audit;

/// <summary><c>-- audit</c> and <c>-- sessions list|revoke</c>, through the commands' entry points.</summary>
public sealed class CommandTests : IDisposable
{
    private readonly IdentityHostFactory factory = new();

    [Fact]
    public async Task AuditUserJson_PrintsThatUsersEvents_OneObjectALine()
    {
        var client = factory.CreateTokenClient();
        var user = await factory.CreateUserAsync();
        var other = await factory.CreateUserAsync();
        var first = await client.PasswordAsync(username: user);
        await client.RefreshAsync(first.RefreshToken);
        await client.RefreshAsync(first.RefreshToken);
        await client.PasswordAsync(username: other);

        var run = await AuditTestKit.RunAsync(factory, (services, output, error) => AuditCommands.RunAsync(services, ["--user", user, "--json"], output, error));

        Assert.Equal(0, run.ExitCode);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(["sign_in.succeeded", "token_family.created", "refresh_token.replay_detected", "token_family.revoked"],
            lines.Select(line => line.GetProperty("type").GetString()));
        var family = Assert.Single(await AuditTestKit.FamilyIdsAsync(factory, user));
        Assert.All(lines, line =>
        {
            Assert.Equal(user, line.GetProperty("user").GetString());
            Assert.Equal("postman", line.GetProperty("client_id").GetString());
            Assert.True(DateTimeOffset.TryParse(line.GetProperty("time").GetString(), out _));
            Assert.True(line.TryGetProperty("ip", out _) && line.TryGetProperty("user_agent", out _) && line.TryGetProperty("subject", out _));
        });
        Assert.All(lines.Skip(1), line => Assert.Equal(family, line.GetProperty("family_id").GetString()));
    }

    [Fact]
    public async Task Audit_FiltersByClientAndSince_AndPrintsAlignedColumns()
    {
        var client = factory.CreateTokenClient();
        await client.PasswordAsync();
        factory.Time.Advance(TimeSpan.FromDays(2));
        await client.ClientCredentialsAsync();
        var user = await factory.CreateUserAsync();
        await client.PasswordAsync(username: user);

        var run = await AuditTestKit.RunAsync(factory, (services, output, error) => AuditCommands.RunAsync(services, ["--client", "postman", "--since", "24h"], output, error));

        Assert.Equal(0, run.ExitCode);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("TIME", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.All(lines.Skip(1), line => Assert.Contains($" {user} ", line));
        Assert.Equal(lines[0].IndexOf("TYPE", StringComparison.Ordinal), lines[1].IndexOf("sign_in.succeeded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Audit_UnknownUserOrBadOption_ExitsNonZeroWithOneLine()
    {
        _ = factory.Services;
        var unknown = await AuditTestKit.RunAsync(factory, (services, output, error) => AuditCommands.RunAsync(services, ["--user", "nobody-at-all"], output, error));
        var badSince = await AuditTestKit.RunAsync(factory, (services, output, error) => AuditCommands.RunAsync(services, ["--since", "yesterday"], output, error));

        Assert.Equal((2, "No user named or with id 'nobody-at-all'.\n"), (unknown.ExitCode, unknown.Error.ReplaceLineEndings("\n")));
        Assert.Equal(2, badSince.ExitCode);
        Assert.Single(badSince.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task SessionsList_ShowsEachLiveFamily_AndRevokeEndsOnlyThatOne()
    {
        using var metrics = new MetricRecorder(factory);
        var client = factory.CreateTokenClient();
        client.Http.DefaultRequestHeaders.UserAgent.ParseAdd("Phone/2.0");
        var user = await factory.CreateUserAsync();
        var phone = await client.PasswordAsync(username: user);
        phone = await client.RefreshAsync(phone.RefreshToken);
        var laptop = await client.PasswordAsync(username: user);
        var ended = await client.PasswordAsync(username: user);
        await client.RevokeAsync(ended.RefreshToken);
        var families = await AuditTestKit.FamilyIdsAsync(factory, user);

        var list = await AuditTestKit.RunAsync(factory, (services, output, error) => SessionCommands.RunAsync(services, ["list", "--user", user], output, error));

        Assert.Equal(0, list.ExitCode);
        var rows = list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["FAMILY", "CLIENT", "CREATED", "LAST", "REFRESHED", "IP", "USER", "AGENT"], rows[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(families.Take(2), rows.Skip(1).Select(row => row.Split(' ')[0]));
        Assert.All(rows.Skip(1), row => Assert.Contains("postman", row));
        Assert.All(rows.Skip(1), row => Assert.EndsWith("Phone/2.0", row));

        var revoke = await AuditTestKit.RunAsync(factory, (services, output, error) => SessionCommands.RunAsync(services, ["revoke", families[0]], output, error));

        Assert.Equal(0, revoke.ExitCode);
        Assert.StartsWith($"Revoked token family {families[0]} (client postman", revoke.Output);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(phone.RefreshToken)).Error);
        Assert.False((await client.IntrospectAsync(phone.AccessToken)).Body.GetProperty("active").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(laptop.RefreshToken)).Status);
        var audit = Assert.Single(await AuditTestKit.RowsAsync(factory), row => row.Type == AuditEventTypes.FamilyRevoked.Name && row.FamilyId == families[0]);
        Assert.StartsWith("reason=admin ", audit.Detail);
        Assert.Equal(1, metrics.Sum("identityhost.token_families.revoked", ("reason", "admin"), ("client_id", "postman")));
    }

    [Fact]
    public async Task Sessions_UnknownFamilyOrUser_ExitNonZeroWithOneLine()
    {
        _ = factory.Services;
        var family = await AuditTestKit.RunAsync(factory, (services, output, error) => SessionCommands.RunAsync(services, ["revoke", "no-such-family"], output, error));
        var user = await AuditTestKit.RunAsync(factory, (services, output, error) => SessionCommands.RunAsync(services, ["list", "--user", "nobody-at-all"], output, error));

        Assert.Equal((2, "No token family with id 'no-such-family'.\n"), (family.ExitCode, family.Error.ReplaceLineEndings("\n")));
        Assert.Equal((2, "No user named or with id 'nobody-at-all'.\n"), (user.ExitCode, user.Error.ReplaceLineEndings("\n")));
    }

    public void Dispose() => factory.Dispose();
}
