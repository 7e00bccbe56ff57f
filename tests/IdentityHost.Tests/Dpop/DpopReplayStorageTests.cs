using System.Net;
using IdentityHost.Maintenance;
using IdentityHost.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.Tests.Dpop;

/// <summary>A proof's jti is single-use across instances (shared database) and its row is pruned once the proof is dead.</summary>
public sealed class DpopReplayStorageTests : IDisposable
{
    private readonly TestFolder folder = new();
    private readonly IdentityHostFactory a;
    private readonly IdentityHostFactory b;

    public DpopReplayStorageTests()
    {
        a = new IdentityHostFactory { Folder = folder, Settings = { ["IdentityHost:Cleanup:Enabled"] = "false" } };
        b = new IdentityHostFactory { Folder = folder, Settings = { ["IdentityHost:Cleanup:Enabled"] = "false" } };
    }

    [Fact]
    public async Task ProofUsedOnOneInstance_IsRefusedOnAnother()
    {
        using var key = new DpopKey { Now = a.Time.GetUtcNow() };
        var user = await a.CreateUserAsync();
        var proof = key.Proof();
        Assert.Equal(HttpStatusCode.OK, (await a.CreateTokenClient().DpopPasswordAsync(user, proof)).Status);

        var replay = await b.CreateTokenClient().DpopPasswordAsync(user, proof);

        DpopTokenEndpointTests.AssertInvalidProof(replay, "already used");
    }

    [Fact]
    public async Task Cleanup_PrunesProofIdsOnceTheirProofsAreTooOld()
    {
        using var key = new DpopKey { Now = a.Time.GetUtcNow() };
        var client = a.CreateTokenClient();
        Assert.Equal(HttpStatusCode.OK, (await client.DpopPasswordAsync(await a.CreateUserAsync(), key.Proof())).Status);
        Assert.Equal(1, await CountAsync());

        await a.Services.GetRequiredService<TokenCleanup>().RunOnceAsync();
        Assert.Equal(1, await CountAsync());

        a.Time.Advance(TimeSpan.FromMinutes(6));
        await a.Services.GetRequiredService<TokenCleanup>().RunOnceAsync();

        Assert.Equal(0, await CountAsync());
    }

    private async Task<int> CountAsync()
    {
        await using var scope = a.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ApplicationDbContext>().DpopProofUses.CountAsync();
    }

    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
        folder.Dispose();
    }
}
