using Npgsql;

namespace IdentityHost.Testing;

/// <summary>
/// Which database the tests run on. By default SQLite. With <c>IDENTITYHOST_TEST_PROVIDER=Postgres</c> every
/// <see cref="TestFolder"/> gets a fresh PostgreSQL database on the server named by <c>IDENTITYHOST_TEST_POSTGRES</c>
/// (a connection string without a database, for a role allowed to create databases), so the same protocol tests run
/// against both engines. <c>.ci/run</c> starts PostgreSQL and sets both.
/// </summary>
public static class TestDatabase
{
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    public static string Provider =>
        string.Equals(Environment.GetEnvironmentVariable("IDENTITYHOST_TEST_PROVIDER"), Postgres, StringComparison.OrdinalIgnoreCase) ? Postgres : Sqlite;

    /// <summary>The PostgreSQL server for the tests, or null when none is configured.</summary>
    public static string? PostgresServer => Environment.GetEnvironmentVariable("IDENTITYHOST_TEST_POSTGRES") is { Length: > 0 } value ? value : null;

    public static string PostgresConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(PostgresServer ?? throw new InvalidOperationException(
            "IDENTITYHOST_TEST_POSTGRES is not set: give a PostgreSQL connection string (Host=127.0.0.1;Username=…;Password=…) for a role with CREATEDB."))
        {
            Database = database,
        }.ConnectionString;

    /// <summary>Drops a test database; a failure (say, a background worker still attached) leaves it for the next run.</summary>
    public static void DropPostgresDatabase(string database)
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            using var connection = new NpgsqlConnection(PostgresConnectionString("postgres"));
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)";
            command.ExecuteNonQuery();
        }
        catch (PostgresException ex)
        {
            Console.Error.WriteLine($"Could not drop test database {database}: {ex.MessageText}");
        }
    }
}
