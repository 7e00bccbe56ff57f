using IdentityHost.Configuration;
using IdentityHost.Keys;
using IdentityHost.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace IdentityHost.Seeding;

/// <summary>
/// Runs before the server accepts requests: loads the keys and OpenIddict's options (so a fault stops start-up instead
/// of failing the first request), applies migrations, then synchronises clients, scopes and the Development users.
/// </summary>
public sealed class DatabaseInitializer(IServiceProvider services, IHostEnvironment environment, ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<KeyRing>();
        _ = services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;

        await MigrateAsync(cancellationToken);

        await using var scope = services.CreateAsyncScope();
        var settings = scope.ServiceProvider.GetRequiredService<IOptions<IdentityHostOptions>>().Value;
        await scope.ServiceProvider.GetRequiredService<ClientSynchronizer>().SynchronizeAsync(settings, cancellationToken);

        if (environment.IsDevelopment())
        {
            await scope.ServiceProvider.GetRequiredService<DemoUserSeeder>().SeedAsync(settings.DemoUsers);
        }

        logger.LogInformation("Database ready: {ClientCount} client(s) and {ScopeCount} scope(s) synchronised", settings.Clients.Count, settings.Scopes.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Applies pending migrations (and WAL mode, which persists in the database file).</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = OpenDatabase(scope.ServiceProvider);

        if (db.Database.IsSqlite())
        {
            // WAL lets readers proceed while one writer commits. (MigrateAsync creates a missing PostgreSQL database.)
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            await db.Database.CloseConnectionAsync();
        }

        await db.Database.MigrateAsync(cancellationToken);
    }

    private static ApplicationDbContext OpenDatabase(IServiceProvider provider)
    {
        try
        {
            return provider.GetRequiredService<ApplicationDbContext>();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"ConnectionStrings:{DatabaseOptions.ConnectionStringName} is invalid: {ex.Message}", ex);
        }
    }
}
