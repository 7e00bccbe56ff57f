using IdentityHost.Storage;
using IdentityHost.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.Tests.HotPath;

/// <summary>
/// On SQLite the hot path's writers (rotation, DPoP jti) queue in the process (SqliteWriteGate) rather than in SQLite's
/// sleeping busy handler: the second writer (blocked on its thread) starts only when the first has left, and a writer
/// that fails (an exception inside its transaction) still lets the next one in. On PostgreSQL the gate does nothing.
/// Waits here are 2 s, shorter than the gate's own 5 s limit, after which a writer goes on without the gate: a writer
/// that got in only by that limit would not count as let in.
/// </summary>
public sealed class SqliteWriteGateTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task SecondWriter_WaitsForTheFirst_AndAFailedWriterReleasesTheGate()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        var gate = factory.Services.GetRequiredService<SqliteWriteGate>();

        var first = gate.Enter(db);
        var second = Task.Run(() => gate.Enter(db));
        if (TestDatabase.Provider == TestDatabase.Postgres)
        {
            // PostgreSQL has many writers and row locks: the gate lets everyone through.
            var entered = await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(2)));
            Assert.True(entered == second, "the SQLite write gate held a PostgreSQL writer back");
            return;
        }

        await Task.Delay(100);
        Assert.False(second.IsCompleted, "a second writer entered while the first was writing");

        first.Dispose();
        using (await second.WaitAsync(TimeSpan.FromSeconds(2)))
        {
            // Entered once the first left.
        }

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            using var failing = gate.Enter(db);
            await Task.Yield();
            throw new InvalidOperationException("the write failed");
        });
        using var after = await Task.Run(() => gate.Enter(db)).WaitAsync(TimeSpan.FromSeconds(2));
    }
}
