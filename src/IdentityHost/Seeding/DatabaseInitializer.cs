using IdentityHost.Configuration;
using IdentityHost.Keys;
using IdentityHost.Storage;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
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
        await EnsureDataProtectionKeyAsync(cancellationToken);

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

    /// <summary>
    /// Data Protection (cookies, antiforgery, and the payloads stored behind refresh tokens) creates its first key
    /// lazily, on first use. Two instances starting together on an empty database could each create one and, for hours,
    /// not read what the other protected: a refresh token issued by one would be refused by the other. So the first key
    /// is created here, before the server takes requests, by one instance at a time (on PostgreSQL under an advisory
    /// lock; an SQLite database has one server). Later keys are created by Data Protection itself, days before they are
    /// used, and every instance reads them in time.
    /// </summary>
    public async Task EnsureDataProtectionKeyAsync(CancellationToken cancellationToken)
    {
        var keys = services.GetRequiredService<IKeyManager>();
        if (HasUsableKey(keys))
        {
            return;
        }

        await using var scope = services.CreateAsyncScope();
        var db = OpenDatabase(scope.ServiceProvider);
        await using var transaction = scope.ServiceProvider.GetRequiredService<IOptions<DatabaseOptions>>().Value.IsPostgres
            ? await db.Database.BeginTransactionAsync(cancellationToken)
            : null; // SQLite's transactions take the write lock, which the key's own write would then wait for
        if (transaction is not null)
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(7243017351)", cancellationToken);
        }

        if (!HasUsableKey(keys))
        {
            var now = DateTimeOffset.UtcNow;
            var lifetime = services.GetRequiredService<IOptions<KeyManagementOptions>>().Value.NewKeyLifetime;
            keys.CreateNewKey(activationDate: now, expirationDate: now + lifetime);
            logger.LogInformation("Created the first Data Protection key");
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        static bool HasUsableKey(IKeyManager keys)
        {
            var now = DateTimeOffset.UtcNow;
            return keys.GetAllKeys().Any(key => !key.IsRevoked && key.ActivationDate <= now && key.ExpirationDate > now);
        }
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
