using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace IdentityHost.Storage.Lean;

/// <summary>
/// Plain ADO.NET commands on a DbContext's own connection and transaction. EF Core still owns the connection: it is
/// opened through EF (so the SQLite pragmas interceptor runs and EF's reference count stays right) on the first
/// command and then left open for the rest of the request, which saves an open and a close per statement (six per
/// refresh); EF Core closes it when the request's DbContext goes back to the pool. A transaction EF has open is
/// joined. The SQL is written once for both engines: quoted identifiers and <c>@name</c>
/// parameters mean the same in SQLite and PostgreSQL, and both ADO.NET providers bind <see cref="DateTime"/> the way
/// EF Core's own mappings store it (SQLite: ISO text; PostgreSQL: <c>timestamp with time zone</c>, UTC).
/// </summary>
internal readonly struct LeanSql : IAsyncDisposable
{
    private LeanSql(DbCommand command) => Command = command;

    public DbCommand Command { get; }

    public static async Task<LeanSql> OpenAsync(DbContext context, string sql, CancellationToken cancellationToken)
    {
        var connection = context.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await context.Database.OpenConnectionAsync(cancellationToken);
        }

        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = context.Database.CurrentTransaction?.GetDbTransaction();
        return new LeanSql(command);
    }

    public LeanSql With(string name, object? value)
    {
        var parameter = Command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value switch
        {
            null => DBNull.Value,
            // PostgreSQL's timestamptz takes UTC only; dates read back from SQLite come without a kind.
            DateTime { Kind: DateTimeKind.Unspecified } date => DateTime.SpecifyKind(date, DateTimeKind.Utc),
            _ => value,
        };
        Command.Parameters.Add(parameter);
        return this;
    }

    public ValueTask DisposeAsync() => Command.DisposeAsync();

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

    public static string? String(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>A stored date as UTC (SQLite keeps no kind; OpenIddict's stores treat every stored date as UTC).</summary>
    public static DateTime? Date(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);
}
