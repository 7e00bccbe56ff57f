using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace IdentityHost.Testing;

/// <summary>
/// IdentityHost in memory, as it runs in Development, on a throwaway folder holding its SQLite database and keys. Two
/// factories given the same <see cref="TestFolder"/> behave like one server restarted. Time is a
/// <see cref="FakeTimeProvider"/> starting at the real current time, so tokens it issues also validate elsewhere.
/// </summary>
public sealed class IdentityHostFactory : WebApplicationFactory<Program>
{
    private TestFolder? folder;
    private bool ownsFolder;

    public IdentityHostFactory() => ClientOptions.AllowAutoRedirect = false;

    /// <summary>Database and keys folder; give two factories the same one to simulate a restart. Defaults to a
    /// folder of this factory's own, deleted on dispose.</summary>
    public TestFolder Folder
    {
        get
        {
            if (folder is null)
            {
                folder = new TestFolder();
                ownsFolder = true;
            }

            return folder;
        }
        init => folder = value;
    }

    /// <summary>
    /// Configuration overrides, e.g. <c>["IdentityHost:AccessTokenLifetime"] = "00:00:05"</c>. Rate limits are off
    /// (every in-memory request comes from one unknown IP) unless <c>IdentityHost:RateLimits:Enabled</c> is set here.
    /// </summary>
    public Dictionary<string, string?> Settings { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The clock of the whole server (OpenIddict, Identity, our code). Defaults to the real time at creation.</summary>
    /// <remarks>It ticks 1 ms per reading, like a real clock: two redemptions of a family never share a timestamp.</remarks>
    public FakeTimeProvider Time { get; init; } = new(DateTimeOffset.UtcNow) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) };

    /// <summary>Service overrides applied after the server's own registrations, e.g. an OpenIddict option.</summary>
    public Action<IServiceCollection>? ServiceOverrides { get; init; }

    /// <summary>Every log line the server wrote.</summary>
    public LogCapture Logs { get; } = new();

    public string ConnectionString => Folder.ConnectionString;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseContentRoot(RepositoryLayout.ProjectFolder("src/IdentityHost"));
        builder.UseSetting("Database:Provider", Folder.Provider);
        builder.UseSetting("ConnectionStrings:IdentityHost", ConnectionString);
        builder.UseSetting("IdentityHost:KeysPath", Folder.KeysPath);
        builder.UseSetting("IdentityHost:RateLimits:Enabled", "false");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services => services
            .AddSingleton<TimeProvider>(Time)
            .AddSingleton<Serilog.Core.ILogEventSink>(Logs));
        if (ServiceOverrides is { } configure)
        {
            builder.ConfigureServices(configure);
        }
    }

    /// <summary>Starts the server (migrations, seeding, key generation) and returns the first error, if any.</summary>
    public Exception? TryStart()
    {
        try
        {
            _ = Services;
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        if (disposing && ownsFolder)
        {
            folder?.Dispose();
        }
    }
}

/// <summary>
/// A temporary folder with a <c>keys</c> subfolder, and the test's database: a SQLite file in the folder, or — when
/// <see cref="TestDatabase.Provider"/> is PostgreSQL — a database of its own on the test server. Both are deleted on
/// dispose.
/// </summary>
public sealed class TestFolder : IDisposable
{
    public TestFolder()
        : this(TestDatabase.Provider)
    {
    }

    /// <summary>A folder whose database is on <paramref name="provider"/> whatever the test run's default.</summary>
    public TestFolder(string provider) => Provider = provider;

    public string Path { get; } = Directory.CreateTempSubdirectory("identityhost-tests-").FullName;

    public string KeysPath => System.IO.Path.Combine(Path, "keys");

    /// <summary><c>Sqlite</c> or <c>Postgres</c>, as the server's <c>Database:Provider</c>.</summary>
    public string Provider { get; }

    /// <summary>The server's <c>ConnectionStrings:IdentityHost</c>; IdentityHost creates the database on first start.</summary>
    public string ConnectionString => Provider == TestDatabase.Postgres
        ? TestDatabase.PostgresConnectionString(DatabaseName)
        : $"Data Source={System.IO.Path.Combine(Path, "identityhost.db")}";

    private string DatabaseName { get; } = "ih_test_" + Guid.NewGuid().ToString("N")[..12];

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Provider == TestDatabase.Postgres)
        {
            TestDatabase.DropPostgresDatabase(DatabaseName);
        }

        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow shutdown is left to the OS temp cleaner.
        }
    }
}

/// <summary>Finds folders of this repository from the test's bin folder.</summary>
public static class RepositoryLayout
{
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(directory.FullName, "IdentityHost.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException("IdentityHost.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string ProjectFolder(string relative) => System.IO.Path.Combine(Root, relative);
}
