using IdentityHost.Storage;
using Microsoft.Data.Sqlite;

namespace IdentityHost.Tests.HotPath;

/// <summary>
/// The shared hot-path connection never checkpoints the WAL inside its own commits (SQLite's would, at its threshold,
/// making every request wait for a copy and two fsyncs): SqliteCheckpointer does it on a thread of its own, asked for
/// every <see cref="SqliteCheckpointer.CommitsPerCheckpoint"/> commits, and once it has run, the next write starts the WAL again
/// from its beginning (under steady writing it would otherwise grow for ever). On a database file of its own (no pooling, so that
/// closing really closes), with commits that each append exactly one page to the WAL.
/// </summary>
public sealed class SqliteCheckpointerTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("ih-checkpoint-").FullName;

    private string ConnectionString => $"Data Source={Path.Combine(directory, "hot.db")};Pooling=False";

    [Fact]
    public async Task SteadyCommits_AreCheckpointedOffThePath_AndTheWalStartsAgain()
    {
        CreateCounter();
        var hotPath = new SqliteHotPath(ConnectionString);
        var commits = 0;
        try
        {
            for (var round = 1; round <= 2; round++)
            {
                // Each commit appends one page to the WAL. SQLite's own checkpoint on the shared connection would only
                // start at 16,000 frames; the background one is asked for at the 750th.
                commits += Commit(hotPath, SqliteCheckpointer.CommitsPerCheckpoint);
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (hotPath.BackgroundCheckpoints < round && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(10);
                }

                Assert.True(hotPath.BackgroundCheckpoints >= round, $"{hotPath.BackgroundCheckpoints} background checkpoints after {commits} commits");

                // Every frame is in the database, so the next write starts the WAL again from its beginning: one frame.
                commits += Commit(hotPath, 1);
                var (frames, copied) = PassiveCheckpoint();
                Assert.True(frames is >= 1 and < 10, $"the WAL holds {frames} frames after {commits} one-page commits: it did not start again");
                Assert.Equal(frames, copied);
                Assert.Equal((long)commits, ReadCounter());
            }
        }
        finally
        {
            hotPath.Dispose();
        }

        // Disposing stops the thread and closes its connection too: with the last connection closed SQLite copies the
        // rest into the database and deletes the WAL, and every commit is there.
        Assert.False(File.Exists(Path.Combine(directory, "hot.db-wal")), "a connection was left open: the WAL is still there");
        Assert.Equal((long)commits, ReadCounter());
    }

    [Fact]
    public async Task UnderContinuousWriting_TheWalStillStartsAgain()
    {
        // A checkpoint that runs beside a writer never catches up with it on its own, and SQLite only starts the WAL
        // again once every frame is in the database: the checkpointer's last pass holds the shared connection for that.
        CreateCounter();
        var hotPath = new SqliteHotPath(ConnectionString);
        try
        {
            var writer = Task.Run(() =>
            {
                var count = 0;
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (hotPath.BackgroundCheckpoints < 3 && DateTime.UtcNow < deadline)
                {
                    count += Commit(hotPath, 1);
                }

                return count;
            });
            var commits = await writer;

            Assert.True(hotPath.BackgroundCheckpoints >= 3, $"{hotPath.BackgroundCheckpoints} background checkpoints after {commits} commits");
            var (frames, _) = PassiveCheckpoint();
            Assert.True(frames >= 0 && frames < commits, $"the WAL holds {frames} frames after {commits} one-page commits: it never started again");
            Assert.Equal((long)commits, ReadCounter());
        }
        finally
        {
            hotPath.Dispose();
        }
    }

    [Fact]
    public void Dispose_WithNoCommits_ReturnsAndLeavesNoWal()
    {
        CreateCounter();
        var hotPath = new SqliteHotPath(ConnectionString);
        Assert.NotNull(hotPath.Enter());
        hotPath.Exit();
        hotPath.Dispose();
        Assert.Equal(0, hotPath.BackgroundCheckpoints);
        Assert.False(File.Exists(Path.Combine(directory, "hot.db-wal")));
        Assert.Null(hotPath.Enter());
    }

    private static int Commit(SqliteHotPath hotPath, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var connection = hotPath.Enter() ?? throw new InvalidOperationException("the shared connection was not free");
            try
            {
                using var command = connection.CreateCommand();
                command.CommandText = "UPDATE counter SET value = value + 1";
                Assert.Equal(1, command.ExecuteNonQuery());
            }
            finally
            {
                hotPath.Exit();
            }
        }

        return count;
    }

    private void CreateCounter()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE counter (value INTEGER NOT NULL); INSERT INTO counter VALUES (0);";
        command.ExecuteNonQuery();
    }

    private long ReadCounter()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM counter";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>
    /// A passive checkpoint of our own, to read the WAL's size: retried while the checkpointer thread is still in one
    /// of its own (SQLite answers busy, -1 frames, to a second checkpoint meanwhile).
    /// </summary>
    private (long Frames, long Copied) PassiveCheckpoint()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        for (var attempt = 0; ; attempt++)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read());
            var (busy, frames, copied) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            if ((busy == 0 && frames >= 0) || attempt == 200)
            {
                return (frames, copied);
            }

            Thread.Sleep(10);
        }
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
