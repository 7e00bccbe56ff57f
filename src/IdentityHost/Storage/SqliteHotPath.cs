using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace IdentityHost.Storage;

/// <summary>
/// One SQLite connection for the token endpoint's SQL (<c>Stores/PreparedSql</c>: the token, authorization and user
/// reads, the token writes, the DPoP <c>jti</c> insert) and for a rotation's write transaction, used by one statement
/// or transaction at a time. Under WAL, SQLite empties a connection's whole page cache when it starts reading after
/// another connection has committed; with a connection per request in flight that was nearly every statement, and each
/// re-read its B-tree pages from the operating system. One connection that does all the hot path's reading and writing
/// keeps its cache warm, since its own commits do not invalidate it. Being one connection, it is also where the hot
/// path's writers queue: a second writer waits here for the first to commit instead of meeting <c>SQLITE_BUSY</c>
/// and SQLite's sleeping busy handler.
/// <para>
/// A statement holds the connection while it runs and its rows are read; a rotation holds it from <c>BEGIN
/// IMMEDIATE</c> to its commit or rollback (a few statements, after every token is signed). Anything inside an EF Core
/// transaction, and the rest of EF Core's work (sign-in's authorization, listing, pruning, bulk revocation, Identity),
/// uses the context's own connection as before (<see cref="SqliteSessions"/>); SQLite's busy timeout applies there.
/// </para>
/// <para>
/// The wait blocks the thread, on purpose: Microsoft.Data.Sqlite does its work synchronously (its asynchronous methods
/// complete before they return), so the holder never needs another thread to finish, and a blocked waiter holds back
/// its thread, so the requests in flight stay as few as the thread pool's threads. An asynchronous wait lets every
/// request run up to its statement and wait there with everything it has built: 50–70 MB more peak RSS at 32 clients
/// (bench/README.md, "The write gate and resident memory"). A request that waits longer than <see cref="MaxWait"/>
/// goes on with its context's own connection, as if this one did not exist.
/// </para>
/// <para>
/// Its commits never wait for a WAL checkpoint: <see cref="SqliteCheckpointer"/> copies the WAL into the database on a
/// thread of its own, asked for every <see cref="SqliteCheckpointer.CommitsPerCheckpoint"/> commits.
/// </para>
/// </summary>
public sealed class SqliteHotPath : IDisposable
{
    /// <summary>
    /// Foreign keys on, as EF Core turns them on for the connections it opens; then the settings of every connection
    /// (<see cref="SqliteConnectionInterceptor"/>), a 4 MiB page cache (this one serves every hot statement), and
    /// SQLite's own checkpoint at twice the usual threshold, only as a safety net behind <see cref="SqliteCheckpointer"/>.
    /// </summary>
    private const string Pragmas = "PRAGMA foreign_keys=1; " + SqliteConnectionInterceptor.Pragmas + " PRAGMA cache_size=-4096; PRAGMA wal_autocheckpoint=16000;";

    /// <summary>A request waiting longer than this uses its context's connection instead.</summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly string connectionString;
    private readonly SqliteCheckpointer checkpointer;
    private SqliteConnection? connection;
    private int commits;
    private bool disposed;

    public SqliteHotPath(string connectionString, ILogger? logger = null)
    {
        this.connectionString = connectionString;
        checkpointer = new SqliteCheckpointer(connectionString, this, logger);
    }

    /// <summary>Checkpoints done off the hot path so far, for tests and diagnostics.</summary>
    internal long BackgroundCheckpoints => checkpointer.Completed;

    /// <summary>
    /// Waits for the connection and returns it, open; the caller must <see cref="Exit"/> once done with it. Null when
    /// it was not free within <see cref="MaxWait"/> or the host is stopping: then the caller uses its own connection.
    /// </summary>
    public SqliteConnection? Enter(CancellationToken cancellationToken = default)
    {
        if (!gate.Wait(MaxWait, cancellationToken))
        {
            return null;
        }

        try
        {
            if (disposed)
            {
                gate.Release();
                return null;
            }

            return connection is { State: System.Data.ConnectionState.Open } open ? open : Open();
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    public void Exit() => gate.Release();

    private SqliteConnection Open()
    {
        connection?.Dispose();
        connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
        SQLitePCL.raw.sqlite3_commit_hook(connection.Handle, OnCommit, null);
        return connection;
    }

    /// <summary>
    /// SQLite calls this inside each commit on the shared connection, under the gate (so the count needs no lock);
    /// returning 0 lets the commit go on.
    /// </summary>
    private int OnCommit(object userData)
    {
        if (++commits >= SqliteCheckpointer.CommitsPerCheckpoint)
        {
            commits = 0;
            checkpointer.Request();
        }

        return 0;
    }

    /// <summary>Closes the connection once it is free (SQLite checkpoints and removes the WAL when the last one closes).</summary>
    public void Dispose()
    {
        checkpointer.Dispose();
        var entered = gate.Wait(MaxWait);
        disposed = true;
        connection?.Dispose();
        connection = null;
        if (entered)
        {
            gate.Release();
        }
    }
}
