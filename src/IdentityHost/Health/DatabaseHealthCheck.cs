using IdentityHost.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHost.Health;

/// <summary>
/// Ready when the database answers a query on the clients table: that proves the connection and the schema (SQLite
/// would happily open an empty new file). The cause of a failure is logged by the health-check service, never returned.
/// On SQLite the check opens a connection of its own: the request contexts keep theirs open (<see cref="SqliteSessions"/>),
/// and readiness asks whether the database file can be opened and read now.
/// </summary>
public sealed class DatabaseHealthCheck(IServiceScopeFactory scopes) : IHealthCheck
{
    private const string Probe = "SELECT 1 FROM \"OpenIddictApplications\" LIMIT 1";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        if (db.Database.GetDbConnection() is SqliteConnection kept)
        {
            await using var connection = new SqliteConnection(kept.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = Probe;
            await command.ExecuteScalarAsync(cancellationToken);
        }
        else
        {
            await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking().AnyAsync(cancellationToken);
        }

        return HealthCheckResult.Healthy("The database answers.");
    }
}
