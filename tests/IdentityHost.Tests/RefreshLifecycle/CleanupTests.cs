using System.Net;
using IdentityHost.Maintenance;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Tests.RefreshLifecycle;

/// <summary>The cleanup deletes dead rows past the retention period, and only those.</summary>
public sealed class CleanupTests : IDisposable
{
    private IdentityHostFactory factory = new()
    {
        Settings = { ["IdentityHost:Cleanup:Retention"] = "1.00:00:00", ["IdentityHost:Cleanup:Enabled"] = "false" },
    };

    [Fact]
    public async Task Cleanup_RemovesDeadRowsOnly_AndLiveFamiliesKeepWorking()
    {
        var client = factory.CreateTokenClient();
        var live = await client.PasswordAsync(scope: "offline_access api");
        live = await client.RefreshAsync(live.RefreshToken);
        live = await client.RefreshAsync(live.RefreshToken);
        var revoked = await client.PasswordAsync(scope: "offline_access api");
        await client.RevokeAsync(revoked.AccessToken); // an access token gets a row only when it is revoked
        await client.RevokeAsync(revoked.RefreshToken);
        var before = await CountByStatusAsync();
        Assert.True(before.GetValueOrDefault(Statuses.Redeemed) >= 2);
        Assert.True(before.GetValueOrDefault(Statuses.Revoked) >= 2);

        var (deletedTooEarly, _) = await factory.Services.GetRequiredService<TokenCleanup>().RunOnceAsync();
        Assert.Equal(0, deletedTooEarly);

        factory.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        var (deleted, deletedAuthorizations) = await factory.Services.GetRequiredService<TokenCleanup>().RunOnceAsync();

        var after = await CountByStatusAsync();
        Assert.Equal(0, after.GetValueOrDefault(Statuses.Redeemed));
        Assert.Equal(0, after.GetValueOrDefault(Statuses.Revoked));
        Assert.Equal(before.GetValueOrDefault(Statuses.Valid), after.GetValueOrDefault(Statuses.Valid));
        Assert.True(deleted >= 4, $"deleted {deleted}");
        Assert.True(deletedAuthorizations >= 1, $"deleted {deletedAuthorizations} authorizations");
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(live.RefreshToken)).Status);
    }

    [Fact]
    public async Task BackgroundCleanup_RunsOnItsInterval()
    {
        factory.Dispose();
        factory = new IdentityHostFactory { Settings = { ["IdentityHost:Cleanup:Interval"] = "01:00:00", ["IdentityHost:Cleanup:Retention"] = "1.00:00:00" } };
        var client = factory.CreateTokenClient();
        var tokens = await client.PasswordAsync(scope: "offline_access api");
        await client.RevokeAsync(tokens.RefreshToken);
        Assert.Empty(CleanupLines());

        factory.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));

        for (var attempt = 0; attempt < 50 && !CleanupLines().Any(line => !line.StartsWith("Cleanup deleted 0 ", StringComparison.Ordinal)); attempt++)
        {
            await Task.Delay(100);
        }

        Assert.Contains(CleanupLines(), line => !line.StartsWith("Cleanup deleted 0 ", StringComparison.Ordinal));
    }

    public void Dispose() => factory.Dispose();

    private List<string> CleanupLines() => factory.Logs.Events.Select(entry => entry.Text).Where(text => text.StartsWith("Cleanup deleted", StringComparison.Ordinal)).ToList();

    private async Task<Dictionary<string, int>> CountByStatusAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await foreach (var token in tokens.ListAsync(count: null, offset: null))
        {
            var status = await tokens.GetStatusAsync(token) ?? "";
            counts[status] = counts.GetValueOrDefault(status) + 1;
        }

        return counts;
    }
}
