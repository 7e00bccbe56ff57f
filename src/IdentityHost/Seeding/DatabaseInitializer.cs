using IdentityHost.Configuration;
using IdentityHost.Hosting;
using IdentityHost.Keys;
using IdentityHost.Storage;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace IdentityHost.Seeding;

/// <summary>
/// Runs before the server accepts requests: loads the keys and OpenIddict's options (so a fault stops start-up instead
/// of failing the first request), applies migrations, then makes sure of the Data Protection key ring and synchronises
/// clients, scopes and the Development users.
/// </summary>
public sealed class DatabaseInitializer(IServiceProvider services, IHostEnvironment environment, ILogger<DatabaseInitializer> logger) : IHostedService
{
    /// <summary>The PostgreSQL advisory lock taken for start-up work on shared data (<see cref="LockStartupAsync"/>).</summary>
    internal const long StartupLockId = 7243017351;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<KeyRing>();
        _ = services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;

        await MigrateAsync(cancellationToken);

        await using var scope = services.CreateAsyncScope();
        var settings = scope.ServiceProvider.GetRequiredService<IOptions<IdentityHostOptions>>().Value;
        await using (await LockStartupAsync(cancellationToken))
        {
            await EnsureDataProtectionKeyLockedAsync(cancellationToken);
            await scope.ServiceProvider.GetRequiredService<ClientSynchronizer>().SynchronizeAsync(settings, cancellationToken);
            if (environment.IsDevelopment())
            {
                await scope.ServiceProvider.GetRequiredService<DemoUserSeeder>().SeedAsync(settings.DemoUsers);
            }
        }

        logger.LogInformation("Database ready: {ClientCount} client(s) and {ScopeCount} scope(s) synchronised", settings.Clients.Count, settings.Scopes.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Applies pending migrations (and WAL mode, which persists in the database file). A database that cannot be opened
    /// is a <see cref="SetupException"/> saying which and why (<see cref="DatabaseFailure"/>).
    /// </summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await MigrateOpenedAsync(cancellationToken);
        }
        catch (Exception ex) when (DatabaseFailure.Describe(ex, services, opening: true) is { } unreachable)
        {
            throw unreachable;
        }
    }

    private async Task MigrateOpenedAsync(CancellationToken cancellationToken)
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
    /// is created here, before the server takes requests, by one instance at a time (see <see cref="LockStartupAsync"/>).
    /// Later keys are created by Data Protection itself, days before they are used, and every instance reads them in time.
    /// Keys stored unencrypted by earlier versions are encrypted first (<see cref="KeyRingUpgrade"/>).
    /// </summary>
    public async Task EnsureDataProtectionKeyAsync(CancellationToken cancellationToken)
    {
        await using (await LockStartupAsync(cancellationToken))
        {
            await EnsureDataProtectionKeyLockedAsync(cancellationToken);
        }
    }

    private async Task EnsureDataProtectionKeyLockedAsync(CancellationToken cancellationToken)
    {
        var keys = services.GetRequiredService<IKeyManager>();
        var encryptedPlainKeys = await KeyRingUpgrade.EncryptPlainKeysAsync(services, logger, cancellationToken);
        if (encryptedPlainKeys || !HasUsableKey(keys))
        {
            // After encrypting plain keys, a new key protects from now on: a copy of the database taken while they were
            // plain opens nothing new, and what they protected still opens.
            var now = DateTimeOffset.UtcNow;
            var lifetime = services.GetRequiredService<IOptions<KeyManagementOptions>>().Value.NewKeyLifetime;
            keys.CreateNewKey(activationDate: now, expirationDate: now + lifetime);
            logger.LogInformation("Created a Data Protection key ({Reason})", encryptedPlainKeys ? "replacing keys stored unencrypted" : "the first one");
        }

        static bool HasUsableKey(IKeyManager keys)
        {
            var now = DateTimeOffset.UtcNow;
            return keys.GetAllKeys().Any(key => !key.IsRevoked && key.ActivationDate <= now && key.ExpirationDate > now);
        }
    }

    /// <summary>
    /// Start-up work on shared data (the key ring, clients, users) runs one instance at a time on PostgreSQL: a
    /// transaction-scoped advisory lock on a connection of its own, held until disposed; the work uses other
    /// connections. Null on SQLite, which has one server, and whose transaction would hold the write lock that work needs.
    /// </summary>
    private async Task<IAsyncDisposable?> LockStartupAsync(CancellationToken cancellationToken)
    {
        if (!services.GetRequiredService<IOptions<DatabaseOptions>>().Value.IsPostgres)
        {
            return null;
        }

        var scope = services.CreateAsyncScope();
        try
        {
            var db = OpenDatabase(scope.ServiceProvider);
            var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({StartupLockId})", cancellationToken);
            return new StartupLock(scope, transaction);
        }
        catch
        {
            await scope.DisposeAsync();
            throw;
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
            throw new SetupException($"ConnectionStrings:{DatabaseOptions.ConnectionStringName} is invalid: {ex.Message}", ex);
        }
    }

    /// <summary>Ends the lock's transaction (nothing was written in it), which releases the lock.</summary>
    private sealed class StartupLock(AsyncServiceScope scope, IDbContextTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await scope.DisposeAsync();
        }
    }
}
