using IdentityHost.Accounts;
using IdentityHost.Configuration;
using IdentityHost.Keys;
using IdentityHost.Seeding;
using IdentityHost.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityHost.Hosting;

public static class StorageExtensions
{
    /// <summary>Without <c>ConnectionStrings:IdentityHost</c>: a SQLite file under the repo-root <c>data/</c>.</summary>
    internal const string DefaultSqliteConnectionString = "Data Source=data/identityhost.db";

    /// <summary>EF Core on SQLite (WAL, busy timeout) for users and OpenIddict's entities, plus ASP.NET Core Identity.</summary>
    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>()
            .Bind(builder.Configuration.GetSection(DatabaseOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();

        // Each engine has its own context type, hence its own migration set; everything else asks for ApplicationDbContext,
        // resolved from the validated Database:Provider.
        // Pooled: a refresh creates one context per request, and pooling saves building its services every time.
        builder.Services.AddDbContextPool<SqliteDbContext>((services, options) => options
            .UseSqlite(ResolveSqliteConnectionString(ConnectionString(services), services.GetRequiredService<IHostEnvironment>().ContentRootPath))
            .AddInterceptors(new SqliteConnectionInterceptor())
            .UseOpenIddict());
        builder.Services.AddDbContextPool<PostgresDbContext>((services, options) => options
            .UseNpgsql(ConnectionString(services))
            .UseOpenIddict());
        // A SQLite context keeps one open connection from request to request (SqliteSessions).
        builder.Services.AddSingleton<SqliteSessions>();
        builder.Services.AddScoped<ApplicationDbContext>(services =>
            services.GetRequiredService<IOptions<DatabaseOptions>>().Value.IsPostgres
                ? services.GetRequiredService<PostgresDbContext>()
                : services.GetRequiredService<SqliteSessions>().Attach(services.GetRequiredService<SqliteDbContext>()));

        // Migrations run before any other hosted service (Data Protection reads its key ring from the database).
        builder.Services.AddSingleton<DatabaseInitializer>().AddHostedService(services => services.GetRequiredService<DatabaseInitializer>());

        // Data Protection keys (refresh-token payloads, cookies, antiforgery, Identity tokens) live in the database,
        // shared by every instance, encrypted with a key from the keys folder (KeyFolderXmlEncryptor).
        builder.Services.AddDataProtection()
            .SetApplicationName("IdentityHost")
            .PersistKeysToDbContext<ApplicationDbContext>();
        builder.Services.AddOptions<KeyManagementOptions>()
            .Configure<KeyRing>((options, keys) => options.XmlEncryptor = new KeyFolderXmlEncryptor(keys));

        builder.Services.AddIdentityCore<ApplicationUser>(options =>
            {
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                options.User.RequireUniqueEmail = false;
            })
            .AddSignInManager()
            .AddEntityFrameworkStores<ApplicationDbContext>()
            .AddDefaultTokenProviders();

        // Every password sign-in (password grant, JSON facade, login page) checks passwords through PasswordSignIn.
        builder.Services.AddScoped<PasswordSignIn>().AddSingleton<DummyPasswordHash>();
        return builder;
    }

    private static string? ConnectionString(IServiceProvider services) =>
        services.GetRequiredService<IConfiguration>().GetConnectionString(DatabaseOptions.ConnectionStringName);

    /// <summary>
    /// The configured connection string, or a file under the repo-root <c>data/</c>; a relative <c>Data Source</c> is
    /// resolved against the repository root and its folder is created.
    /// </summary>
    internal static string ResolveSqliteConnectionString(string? configured, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(configured) ? DefaultSqliteConnectionString : configured);
        if (string.IsNullOrEmpty(builder.DataSource) || builder.DataSource == ":memory:" || builder.Mode == SqliteOpenMode.Memory)
        {
            return builder.ToString();
        }

        builder.DataSource = RepositoryPaths.Resolve(contentRoot, builder.DataSource);
        Directory.CreateDirectory(Path.GetDirectoryName(builder.DataSource)!);
        builder.Pooling = true;
        return builder.ToString();
    }
}
