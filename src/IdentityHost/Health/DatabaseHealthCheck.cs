using IdentityHost.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHost.Health;

/// <summary>
/// Ready when the database answers a query on the clients table: that proves the connection and the schema (SQLite
/// would happily open an empty new file). The cause of a failure is logged by the health-check service, never returned.
/// </summary>
public sealed class DatabaseHealthCheck(IServiceScopeFactory scopes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        await db.Set<OpenIddictEntityFrameworkCoreApplication>().AsNoTracking().AnyAsync(cancellationToken);
        return HealthCheckResult.Healthy("The database answers.");
    }
}
