using System.Data.Common;
using IdentityHost.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.MicroBench;

/// <summary>
/// IdentityHost's <see cref="ApplicationDbContext"/> and OpenIddict's EF Core stores on a throwaway SQLite file, set up
/// as the server sets them up: migrations applied, WAL, and busy_timeout + synchronous=NORMAL on every connection.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private BenchDatabase(string connectionString, ServiceProvider services)
    {
        ConnectionString = connectionString;
        Services = services;
    }

    public string ConnectionString { get; }

    public ServiceProvider Services { get; }

    /// <param name="lean">Register IdentityHost's lean token and authorization stores, as the server does.</param>
    public static async Task<BenchDatabase> CreateAsync(bool lean = false)
    {
        var folder = Directory.CreateTempSubdirectory("identityhost-microbench-").FullName;
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "bench.db"), Pooling = true }.ToString();

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<SqliteDbContext>(options => options
            .UseSqlite(connectionString)
            .AddInterceptors(new PragmaInterceptor())
            .UseOpenIddict());
        services.AddScoped<ApplicationDbContext>(provider => provider.GetRequiredService<SqliteDbContext>());
        services.AddOpenIddict().AddCore(options =>
        {
            options.UseEntityFrameworkCore().UseDbContext<ApplicationDbContext>();
            if (lean)
            {
                options.ReplaceTokenStore<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken, IdentityHost.Storage.Stores.TokenStore>()
                    .ReplaceAuthorizationStore<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreAuthorization, IdentityHost.Storage.Stores.AuthorizationStore>();
            }
        });

        var provider = services.BuildServiceProvider();
        await using (var scope = provider.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
            await context.Database.MigrateAsync();
            await context.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        }

        return new BenchDatabase(connectionString, provider);
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(new SqliteConnectionStringBuilder(ConnectionString).DataSource)!, recursive: true);
    }

    /// <summary>The per-connection settings IdentityHost applies on open (its own interceptor is internal).</summary>
    private sealed class PragmaInterceptor : DbConnectionInterceptor
    {
        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Apply(connection);
            return Task.CompletedTask;
        }

        private static void Apply(DbConnection connection)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL;";
            command.ExecuteNonQuery();
        }
    }
}
