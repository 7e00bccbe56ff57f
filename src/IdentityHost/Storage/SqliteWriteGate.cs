using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace IdentityHost.Storage;

/// <summary>
/// Lets the hot path's SQLite writes (a rotation's transaction, a DPoP proof's <c>jti</c>) queue in the process instead of
/// in SQLite. SQLite has one writer at a time; a second connection that wants to write meanwhile is refused with
/// <c>SQLITE_BUSY</c> and its busy handler sleeps and retries (1, 2, 5, 10 … ms), waking threads and taking file locks
/// for nothing. Awaiting this gate first, a writer waits asynchronously and starts the moment the previous one is done.
/// On PostgreSQL (row locks, many writers) it does nothing. Other writers (sign-in, revocation, cleanup, the command
/// line in another process) still meet SQLite's own busy handling, as before: the gate only changes who waits where.
/// </summary>
public sealed class SqliteWriteGate : IDisposable
{
    /// <summary>A writer waiting longer than this goes ahead and meets SQLite's busy timeout instead.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim gate = new(1, 1);

    public async ValueTask<Passage> EnterAsync(DbContext context, CancellationToken cancellationToken = default)
    {
        if (context.Database.GetDbConnection() is not SqliteConnection)
        {
            return default;
        }

        return await gate.WaitAsync(MaxWait, cancellationToken) ? new Passage(gate) : default;
    }

    public void Dispose() => gate.Dispose();

    /// <summary>Leaves the gate when disposed (does nothing when the gate was not entered).</summary>
    public readonly struct Passage(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
