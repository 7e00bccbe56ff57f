using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace IdentityHost.Storage;

/// <summary>
/// Copies the WAL into the database on a thread of its own, so that the token endpoint never waits for it. SQLite's
/// automatic checkpoint runs inside the commit that crosses its threshold, on the committing connection; for the shared
/// hot-path connection (<see cref="SqliteHotPath"/>) that meant every request queued behind a copy of up to 32 MB and
/// two <c>fsync</c>s: all 32 requests at once for 55–90 ms every half second at 32 clients, ~50 ms at one client
/// (bench/README.md, "The slowest requests: WAL checkpoints off the hot path").
/// <para>
/// The hot path asks for a checkpoint every <see cref="CommitsPerCheckpoint"/> commits (SQLite's commit hook, see
/// <see cref="SqliteHotPath"/>); this thread then runs a passive checkpoint on its own connection while the hot path goes
/// on writing, which is the long part. Frames appended meanwhile are not copied, and SQLite only starts the WAL again
/// from its beginning once every frame is in the database, so under steady load it would grow for ever: a short
/// second pass copies the few frames left while holding the hot path's connection, so no new ones arrive, and its next
/// write starts the WAL from the beginning. The hot connection keeps SQLite's own checkpoint at twice the usual
/// threshold as a safety net, should this thread fall behind.
/// </para>
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    /// <summary>
    /// A refresh's rotation appends ~11 pages to the WAL in one commit (measured: 6,400–6,700 frames per 600 commits at
    /// 32 clients; a DPoP proof ~3 more in another), so 750 commits are about the 8,000 pages at which every other
    /// connection checkpoints (<see cref="SqliteConnectionInterceptor"/>): as often as SQLite's own checkpoint ran
    /// before, so the same hot pages are not copied more often.
    /// </summary>
    internal const int CommitsPerCheckpoint = 750;

    private const string Pragmas = SqliteConnectionInterceptor.Pragmas + " PRAGMA wal_autocheckpoint=0;";

    private readonly string connectionString;
    private readonly SqliteHotPath hotPath;
    private readonly ILogger? logger;
    private readonly SemaphoreSlim requested = new(0, 1);
    private readonly CancellationTokenSource stopping = new();
    private readonly Thread thread;
    private SqliteConnection? connection;
    private int pending;
    private long completed;

    public SqliteCheckpointer(string connectionString, SqliteHotPath hotPath, ILogger? logger)
    {
        this.connectionString = connectionString;
        this.hotPath = hotPath;
        this.logger = logger;
        thread = new Thread(Run) { IsBackground = true, Name = "SQLite checkpointer" };
        thread.Start();
    }

    /// <summary>Checkpoints done on this thread (both passes), for tests and diagnostics.</summary>
    public long Completed => Interlocked.Read(ref completed);

    /// <summary>Asks for a checkpoint; returns at once (called from inside a commit: it must not touch the database).</summary>
    public void Request()
    {
        if (Interlocked.Exchange(ref pending, 1) == 0)
        {
            requested.Release();
        }
    }

    private void Run()
    {
        var token = stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                requested.Wait(token);
                Volatile.Write(ref pending, 0);
                Checkpoint(token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Never let the thread die (that would end the process): SQLite's own checkpoint on the shared
                // connection remains as the safety net, and the next request tries again on a new connection.
                logger?.LogWarning(ex, "Background WAL checkpoint failed; SQLite's automatic checkpoint remains in place");
                connection?.Dispose();
                connection = null;
            }
        }
    }

    private void Checkpoint(CancellationToken token)
    {
        var started = Stopwatch.GetTimestamp();
        var (frames, _) = Passive();

        // Frames appended while the first pass ran are not in it (its result counts only the frames it saw): copy
        // them with the hot path's writers held, so the next write can start the WAL from its beginning. Usually a
        // few hundred frames, but this pass also syncs the database file: ~10–25 ms at 32 clients.
        if (hotPath.Enter(token) is null)
        {
            return;
        }

        long rest, copied;
        try
        {
            (rest, copied) = Passive();
        }
        finally
        {
            hotPath.Exit();
        }

        Interlocked.Increment(ref completed);
        logger?.LogDebug("WAL checkpoint: {Frames} frames, then {Rest} with the hot path held ({Copied} copied), in {Ms:F1} ms",
            frames, rest, copied, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>One passive checkpoint on this thread's connection: the WAL's frames, and how many are in the database.</summary>
    private (long Log, long Copied) Passive()
    {
        if (connection is null)
        {
            connection = new SqliteConnection(connectionString);
            connection.Open();
            using var setup = connection.CreateCommand();
            setup.CommandText = Pragmas;
            setup.ExecuteNonQuery();
        }

        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(1), reader.GetInt64(2)) : (0, 0);
    }

    /// <summary>Stops the thread (waiting for a checkpoint under way, at most 10 s) and closes its connection.</summary>
    public void Dispose()
    {
        stopping.Cancel();
        if (thread.Join(TimeSpan.FromSeconds(10)))
        {
            connection?.Dispose();
            connection = null;
            stopping.Dispose();
        }
    }
}
