using IdentityHost.Configuration;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace IdentityHost.Hosting;

public static class StorageExtensions
{
    /// <summary>EF Core on SQLite (WAL, busy timeout) for users and OpenIddict's entities, plus ASP.NET Core Identity.</summary>
    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>()
            .Bind(builder.Configuration.GetSection(DatabaseOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();

        builder.Services.AddDbContext<ApplicationDbContext>((services, options) =>
        {
            var environment = services.GetRequiredService<IHostEnvironment>();
            var configured = services.GetRequiredService<IConfiguration>().GetConnectionString(DatabaseOptions.ConnectionStringName);
            options.UseSqlite(ResolveSqliteConnectionString(configured, environment.ContentRootPath))
                .AddInterceptors(new SqliteConnectionInterceptor())
                .UseOpenIddict();
        });

        builder.Services.AddIdentityCore<ApplicationUser>(options =>
            {
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                options.User.RequireUniqueEmail = false;
            })
            .AddSignInManager()
            .AddEntityFrameworkStores<ApplicationDbContext>()
            .AddDefaultTokenProviders();

        return builder;
    }

    /// <summary>
    /// The configured connection string, or a file under the repo-root <c>data/</c>; a relative <c>Data Source</c> is
    /// resolved against the repository root and its folder is created.
    /// </summary>
    internal static string ResolveSqliteConnectionString(string? configured, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(configured) ? "Data Source=data/identityhost.db" : configured);
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
