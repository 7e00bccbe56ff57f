using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace IdentityHost.Storage;

/// <summary>
/// Lets the hot path's SQLite writes (a rotation's transaction, a DPoP proof's <c>jti</c>) queue in the process instead of
/// in SQLite. SQLite has one writer at a time; a second connection that wants to write meanwhile is refused with
/// <c>SQLITE_BUSY</c> and its busy handler sleeps and retries (1, 2, 5, 10 … ms), waking threads and taking file locks
/// for nothing. Entering this gate first, a writer waits on a semaphore and starts the moment the previous one is done.
/// On PostgreSQL (row locks, many writers) it does nothing. Other writers (sign-in, revocation, cleanup, the command
/// line in another process) still meet SQLite's own busy handling, as before: the gate only changes who waits where.
/// <para>
/// The wait blocks the thread, as SQLite's busy handler did, and on purpose: Microsoft.Data.Sqlite does its work
/// synchronously (its asynchronous methods complete before they return), so the writer holding the gate never needs
/// another thread to finish, and a blocked waiter holds back its thread, so the requests in flight stay as few as the
/// thread pool's threads. An asynchronous wait let every request run up to its write and wait there with everything it
/// had built; the GC then saw much of each generation 0 survive and grew its budgets: 50–70 MB more peak RSS at 32
/// clients, and 7 % fewer refreshes per CPU-second than this blocking wait (bench/README.md, "The write gate and
/// resident memory").
/// </para>
/// </summary>
public sealed class SqliteWriteGate : IDisposable
{
    /// <summary>A writer waiting longer than this goes ahead and meets SQLite's busy timeout instead.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim gate = new(1, 1);

    public Passage Enter(DbContext context, CancellationToken cancellationToken = default)
    {
        if (context.Database.GetDbConnection() is not SqliteConnection)
        {
            return default;
        }

        return gate.Wait(MaxWait, cancellationToken) ? new Passage(gate) : default;
    }

    public void Dispose() => gate.Dispose();

    /// <summary>Leaves the gate when disposed (does nothing when the gate was not entered).</summary>
    public readonly struct Passage(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
