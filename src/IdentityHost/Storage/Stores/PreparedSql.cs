using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace IdentityHost.Storage.Stores;

/// <summary>
/// Plain ADO.NET commands. On SQLite outside an EF Core transaction they run on the one shared hot-path connection
/// (<see cref="SqliteHotPath"/>), inside a rotation's transaction there if one is open; otherwise (PostgreSQL, an EF
/// Core transaction, the shared connection busy for too long) on the DbContext's own connection, which is opened
/// through EF Core (so the SQLite pragmas interceptor runs and EF's reference count stays right) on the first command
/// and then left open for the rest of the request (on SQLite for good, see <see cref="SqliteSessions"/>), which saves
/// an open and a close per statement; a transaction EF has open is joined. The SQL is written once for both engines: quoted
/// identifiers and <c>@name</c> parameters mean the same in SQLite and PostgreSQL, and both ADO.NET providers bind
/// <see cref="DateTime"/> the way EF Core's own mappings store it (SQLite: ISO text; PostgreSQL:
/// <c>timestamp with time zone</c>, UTC).
/// <para>
/// On SQLite each connection keeps its commands, one per SQL text, so a statement is parsed and planned once per
/// connection and then only re-bound. A kept command is used by one request at a time, like its connection; its
/// parameters are cleared each time it is taken. It is reused only on the native connection it was prepared on:
/// Microsoft.Data.Sqlite forgets a command when its connection closes, and the command's statements would otherwise
/// outlive the close and run on the pooled native connection another request holds by then.
/// </para>
/// </summary>
internal readonly struct PreparedSql : IAsyncDisposable
{
    private static readonly ConditionalWeakTable<DbConnection, Dictionary<string, (DbCommand Command, object Handle)>> Kept = new();

    /// <summary>The shared hot-path connection this statement holds until disposed, if it holds it.</summary>
    private readonly SqliteHotPath? held;

    private PreparedSql(DbCommand command, SqliteHotPath? held)
    {
        Command = command;
        this.held = held;
    }

    public DbCommand Command { get; }

    /// <summary>SQLite commands are kept on their connection (see above); others are disposed after use.</summary>
    private bool IsKept => Command is SqliteCommand;

    public static async Task<PreparedSql> OpenAsync(DbContext context, string sql, CancellationToken cancellationToken)
    {
        // SQLite outside an EF Core transaction: the shared hot-path connection, inside the rotation's transaction
        // when one is open, else held for this one statement (SqliteHotPath).
        SqliteHotPath? held = null;
        DbConnection? connection = null;
        DbTransaction? transaction = null;
        if (context is ApplicationDbContext { HotPath: { } hotPath } owner && context.Database.CurrentTransaction is null)
        {
            if (owner.HotTransaction is { } hot)
            {
                (connection, transaction) = (hot.Connection, hot);
            }
            else if (hotPath.Enter(cancellationToken) is { } shared)
            {
                (connection, held) = (shared, hotPath);
            }
        }

        if (connection is null)
        {
            connection = context.Database.GetDbConnection();
            if (connection.State != System.Data.ConnectionState.Open)
            {
                await context.Database.OpenConnectionAsync(cancellationToken);
            }

            transaction = context.Database.CurrentTransaction?.GetDbTransaction();
        }

        try
        {
            DbCommand command;
            if (connection is SqliteConnection sqlite)
            {
                command = await KeptAsync(sqlite, sql);
            }
            else
            {
                command = connection.CreateCommand();
                command.CommandText = sql;
            }

            command.Transaction = transaction;
            return new PreparedSql(command, held);
        }
        catch
        {
            held?.Exit();
            throw;
        }
    }

    /// <summary>The connection's command for this SQL, its parameters cleared (see above).</summary>
    private static async ValueTask<DbCommand> KeptAsync(SqliteConnection connection, string sql)
    {
        var commands = Kept.GetValue(connection, static _ => new Dictionary<string, (DbCommand, object)>(StringComparer.Ordinal));
        if (commands.TryGetValue(sql, out var entry) && ReferenceEquals(entry.Handle, connection.Handle))
        {
            foreach (DbParameter parameter in entry.Command.Parameters)
            {
                parameter.Value = DBNull.Value;
            }

            return entry.Command;
        }

        // New, or prepared on a native connection this one no longer holds (it was closed and reopened since): such
        // statements would run on whichever connection now has that handle.
        await (entry.Command?.DisposeAsync() ?? ValueTask.CompletedTask);
        var command = connection.CreateCommand();
        command.CommandText = sql;
        commands[sql] = (command, connection.Handle!);
        return command;
    }

    public PreparedSql With(string name, object? value)
    {
        var known = IsKept && Command.Parameters.Contains(name);
        var parameter = known ? Command.Parameters[name] : Command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value switch
        {
            null => DBNull.Value,
            // PostgreSQL's timestamptz takes UTC only; dates read back from SQLite come without a kind.
            DateTime { Kind: DateTimeKind.Unspecified } date => DateTime.SpecifyKind(date, DateTimeKind.Utc),
            _ => value,
        };
        if (!known)
        {
            Command.Parameters.Add(parameter);
        }

        return this;
    }

    /// <summary>
    /// Disposes the command, or, for a kept one, lets go of the request's transaction; hands the shared hot-path
    /// connection on when this statement held it.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (!IsKept)
        {
            return Command.DisposeAsync();
        }

        Command.Transaction = null;
        held?.Exit();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Runs an UPDATE or DELETE guarded by the row's concurrency token (and status): no row changed means another
    /// request changed or removed it first, which OpenIddict's managers expect as a <c>ConcurrencyException</c>.
    /// </summary>
    public async Task ExecuteGuardedAsync(string what, CancellationToken cancellationToken)
    {
        if (await Command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new OpenIddict.Abstractions.OpenIddictExceptions.ConcurrencyException(
                $"The {what} was concurrently updated or removed and cannot be persisted in its current state.");
        }
    }

    /// <summary>The column names of a list of quoted identifiers (<c>"Id", "Type"</c>).</summary>
    public static IReadOnlyList<string> Names(string columns) => [.. columns.Split(',').Select(column => column.Trim().Trim('"'))];

    public static string? String(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>A stored date as UTC (SQLite keeps no kind; OpenIddict's stores treat every stored date as UTC).</summary>
    public static DateTime? Date(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);
}
