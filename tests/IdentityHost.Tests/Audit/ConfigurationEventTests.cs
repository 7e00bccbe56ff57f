using IdentityHost.Audit;
using IdentityHost.Maintenance;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.Tests.Audit;

/// <summary>Client configuration changes are audited only when something changed; audit rows expire with the retention.</summary>
public sealed class ConfigurationEventTests
{
    private const string Secret = "extra-secret-first";

    [Fact]
    public async Task ClientSynchroniser_AuditsCreatedChangedAndRemoved_AndNothingWhenNothingChanged()
    {
        using var folder = new TestFolder();
        using (var first = new IdentityHostFactory { Folder = folder, Settings = Extra(Secret, "Extra") })
        {
            var created = (await AuditTestKit.RowsAsync(first)).Where(row => row.Type == AuditEventTypes.ClientCreated.Name).Select(row => row.ClientId);
            Assert.Contains("extra", created);
            Assert.Contains("postman", created);
        }

        using (var second = new IdentityHostFactory { Folder = folder, Settings = Extra("extra-secret-second", "Extra, renamed") })
        {
            var changed = Assert.Single(await AuditTestKit.RowsAsync(second), row => row.Type == AuditEventTypes.ClientChanged.Name);
            Assert.Equal(("extra", "changed=display_name,secret"), (changed.ClientId, changed.Detail));
        }

        using var third = new IdentityHostFactory { Folder = folder };
        var rows = await AuditTestKit.RowsAsync(third);
        Assert.Equal("extra", Assert.Single(rows, row => row.Type == AuditEventTypes.ClientRemoved.Name).ClientId);
        Assert.Single(rows, row => row.Type == AuditEventTypes.ClientChanged.Name);
        Assert.DoesNotContain(await AuditTestKit.RowTextsAsync(third), text => text.Contains("extra-secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cleanup_DeletesAuditRowsPastTheRetentionOnly()
    {
        using var factory = new IdentityHostFactory
        {
            Settings = { ["IdentityHost:Audit:Retention"] = "30.00:00:00", ["IdentityHost:Cleanup:Enabled"] = "false" },
        };
        var client = factory.CreateTokenClient();
        await client.PasswordAsync();
        var before = await AuditTestKit.RowsAsync(factory);
        factory.Time.Advance(TimeSpan.FromDays(30) + TimeSpan.FromMinutes(1));
        await client.PasswordAsync();
        var recent = (await AuditTestKit.RowsAsync(factory)).Count - before.Count;

        await factory.Services.GetRequiredService<TokenCleanup>().RunOnceAsync();

        var after = await AuditTestKit.RowsAsync(factory);
        Assert.Equal(recent, after.Count);
        Assert.DoesNotContain(after, row => before.Any(old => old.Id == row.Id));
        Assert.Contains(factory.Logs.Events, entry => entry.Text == $"Cleanup deleted {before.Count} audit event(s) past their retention");
    }

    [Fact]
    public async Task Retention_MustBePositive_StopsStartupNamingTheKey()
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);

        var (exitCode, output, _) = await ServerProcess.RunIdentityHostToExitAsync(folder, new() { ["IdentityHost__Audit__Retention"] = "00:00:00" });

        Assert.Equal(1, exitCode);
        Assert.Contains("IdentityHost:Audit:Retention must be positive", output);
    }

    private static Dictionary<string, string?> Extra(string secret, string name) => new(StringComparer.Ordinal)
    {
        ["IdentityHost:Clients:extra:Secret"] = secret,
        ["IdentityHost:Clients:extra:DisplayName"] = name,
        ["IdentityHost:Clients:extra:Grants:0"] = "client_credentials",
        ["IdentityHost:Clients:extra:Scopes:0"] = "api",
    };
}
