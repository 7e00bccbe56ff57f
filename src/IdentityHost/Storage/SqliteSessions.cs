using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace IdentityHost.Storage;

/// <summary>
/// Gives each pooled SQLite DbContext a connection of its own that stays open from one request to the next, so the
/// statements prepared on it (see <c>PreparedSql</c>, when the shared connection is not used) are parsed once per
/// connection instead of once per request. EF Core closes a connection it owns whenever a context goes back to the pool; a connection handed to the
/// context with <c>contextOwnsConnection: false</c> is left as it is. EF Core still tracks and rolls back its
/// transactions as usual (an unfinished transaction is rolled back when the context goes back to the pool), and
/// reopens the connection should it ever be closed. Each context is also handed the one <see cref="SqliteHotPath"/>
/// they all share, where the token endpoint's own SQL runs.
/// <para>
/// There is one native connection per pooled context, plus the shared one: the pooled contexts hold theirs instead of
/// Microsoft.Data.Sqlite's pool. When the host stops, the open connections are closed (so SQLite checkpoints and
/// removes its WAL file); a context EF Core discards because its pool is full releases its connection when collected.
/// </para>
/// </summary>
internal sealed class SqliteSessions(ILogger<SqliteCheckpointer> checkpointLogger) : IDisposable
{
    private readonly ConditionalWeakTable<DbContext, SqliteConnection> attached = new();
    private readonly List<WeakReference<SqliteConnection>> opened = [];
    private SqliteHotPath? hotPath;
    private bool disposed;

    public TContext Attach<TContext>(TContext context) where TContext : ApplicationDbContext
    {
        if (attached.TryGetValue(context, out _))
        {
            return context;
        }

        if (hotPath is null)
        {
            lock (opened)
            {
                hotPath ??= new SqliteHotPath(context.Database.GetConnectionString()!, checkpointLogger);
            }
        }

        context.HotPath = hotPath;

        var connection = new SqliteConnection(context.Database.GetConnectionString());
        context.Database.SetDbConnection(connection, contextOwnsConnection: false);

        // Opened through EF Core (the pragmas interceptor runs) before the context's first use: EF opens a closed
        // connection around each of its own operations and closes it again after, which would hand the native
        // connection back to Microsoft.Data.Sqlite's pool between statements. EF forgets this open when the context
        // goes back to the pool, and never closes a connection it does not own, so it stays open.
        context.Database.OpenConnection();
        attached.Add(context, connection);
        lock (opened)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            opened.RemoveAll(reference => !reference.TryGetTarget(out _));
            opened.Add(new WeakReference<SqliteConnection>(connection));
        }

        return context;
    }

    public void Dispose()
    {
        lock (opened)
        {
            disposed = true;
            foreach (var reference in opened)
            {
                if (reference.TryGetTarget(out var connection))
                {
                    connection.Dispose();
                }
            }

            opened.Clear();
        }

        hotPath?.Dispose();
    }
}
