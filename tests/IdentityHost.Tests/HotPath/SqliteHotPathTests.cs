using System.Net;
using IdentityHost.Storage;
using IdentityHost.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.Tests.HotPath;

/// <summary>
/// On SQLite the token endpoint's SQL runs on one shared connection (SqliteHotPath), one statement or rotation at a
/// time: a second user (blocked on its thread) gets it only when the first has left, and one that fails still lets the
/// next one in; a refresh waits for it (so the token endpoint does use it). It has the same settings as the contexts' own connections, foreign keys included. On PostgreSQL there
/// is none. Waits here are 2 s, shorter than the hot path's own 5 s limit, after which a request goes on with its
/// context's connection: a user let in only by that limit would not count as let in.
/// </summary>
public sealed class SqliteHotPathTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task SecondUser_WaitsForTheFirst_AndAFailedUserReleasesTheConnection()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        if (TestDatabase.Provider == TestDatabase.Postgres)
        {
            Assert.Null(db.HotPath);
            return;
        }

        var hotPath = Assert.IsType<SqliteHotPath>(db.HotPath);
        var first = hotPath.Enter();
        Assert.NotNull(first);
        var second = Task.Run(() => hotPath.Enter());
        await Task.Delay(100);
        Assert.False(second.IsCompleted, "a second user took the shared connection while the first held it");

        hotPath.Exit();
        Assert.Same(first, await second.WaitAsync(TimeSpan.FromSeconds(2)));
        hotPath.Exit();

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var statement = await Storage.Stores.PreparedSql.OpenAsync(db, "SELECT 1", CancellationToken.None);
            await Task.Yield();
            throw new InvalidOperationException("the statement failed");
        });
        var after = await Task.Run(() => hotPath.Enter()).WaitAsync(TimeSpan.FromSeconds(2));
        Assert.Same(first, after);
        hotPath.Exit();
    }

    [Fact]
    public async Task Refresh_RunsOnTheSharedConnection_AndFinishesOnceItIsFree()
    {
        var client = factory.CreateTokenClient();
        var signedIn = await client.PasswordAsync();
        Assert.True(signedIn.Status == HttpStatusCode.OK, signedIn.ToString());
        if (TestDatabase.Provider == TestDatabase.Postgres)
        {
            return;
        }

        SqliteHotPath hotPath;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            hotPath = Assert.IsType<SqliteHotPath>(scope.ServiceProvider.GetRequiredService<ApplicationDbContext>().HotPath);
        }

        // Held here, the token endpoint's statements wait for it: the refresh cannot read its token, let alone rotate it.
        Assert.NotNull(hotPath.Enter());
        Task<ProtocolResponse> refresh;
        try
        {
            refresh = Task.Run(() => client.RefreshAsync(signedIn.RefreshToken));
            await Task.Delay(300);
            Assert.False(refresh.IsCompleted, "a refresh finished while the shared connection was held: the token endpoint does not use it");
        }
        finally
        {
            hotPath.Exit();
        }

        var refreshed = await refresh.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.True(refreshed.Status == HttpStatusCode.OK, refreshed.ToString());
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(refreshed.RefreshToken)).Status);
    }

    [Fact]
    public async Task SharedConnection_HasTheContextsSettings_ForeignKeysIncluded()
    {
        if (TestDatabase.Provider == TestDatabase.Postgres)
        {
            return;
        }

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        var own = (SqliteConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        var hotPath = Assert.IsType<SqliteHotPath>(db.HotPath);
        var shared = hotPath.Enter();
        Assert.NotNull(shared);
        try
        {
            Assert.NotSame(own, shared);
            foreach (var pragma in new[] { "foreign_keys", "busy_timeout", "synchronous", "journal_mode", "journal_size_limit" })
            {
                Assert.Equal(Read(own, pragma), Read(shared, pragma));
            }

            Assert.Equal(1L, Read(shared, "foreign_keys"));
            Assert.Equal("wal", Read(shared, "journal_mode"));

            // The shared connection leaves checkpoints to SqliteCheckpointer; SQLite's own, at twice the others'
            // threshold, is only its safety net.
            Assert.Equal(8000L, Read(own, "wal_autocheckpoint"));
            Assert.Equal(16000L, Read(shared, "wal_autocheckpoint"));
        }
        finally
        {
            hotPath.Exit();
        }
    }

    private static object? Read(SqliteConnection connection, string pragma)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + pragma;
        return command.ExecuteScalar();
    }
}
