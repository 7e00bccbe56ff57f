using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityHost.Storage;

/// <summary>
/// Applies the per-connection SQLite settings on every open: a busy timeout so concurrent writers wait for the lock
/// instead of failing or falling into long retry sleeps, and synchronous=NORMAL, which is durable under WAL.
/// </summary>
internal sealed class SqliteConnectionInterceptor : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }
}
