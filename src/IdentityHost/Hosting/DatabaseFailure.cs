using System.Net.Sockets;
using IdentityHost.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IdentityHost.Hosting;

/// <summary>
/// A database IdentityHost cannot reach, said in one line a person can act on: the engine, where it was looked for
/// (PostgreSQL's host and port, or the SQLite file) and why, e.g. <c>Cannot open the database (Database:Provider=Postgres,
/// host 127.0.0.1:5432, database identityhost): connection refused; check ConnectionStrings:IdentityHost.</c> The
/// connection string itself is never repeated: it may carry a password.
/// </summary>
public static class DatabaseFailure
{
    /// <summary>
    /// A <see cref="SetupException"/> describing <paramref name="exception"/> when it says the database cannot be opened
    /// (unreachable server, refused credentials, a SQLite file that cannot be opened or created); null otherwise.
    /// <paramref name="opening"/>: the exception came from opening the database, where a file-system error on SQLite is
    /// its folder's.
    /// </summary>
    public static SetupException? Describe(Exception exception, IServiceProvider services, bool opening = false)
    {
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (Reason(exception, sqliteFolder: opening && !options.IsPostgres) is not { } reason)
        {
            return null;
        }

        var configured = services.GetRequiredService<IConfiguration>().GetConnectionString(DatabaseOptions.ConnectionStringName);
        var contentRoot = services.GetRequiredService<IHostEnvironment>().ContentRootPath;
        var provider = options.IsPostgres ? DatabaseProviders.Postgres : DatabaseProviders.Sqlite;
        return new SetupException(
            $"Cannot open the database (Database:Provider={provider}{Where(options.IsPostgres, configured, contentRoot)}): {reason}; check ConnectionStrings:{DatabaseOptions.ConnectionStringName}.",
            exception);
    }

    private static string? Reason(Exception exception, bool sqliteFolder)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case SetupException:
                    return null;
                case PostgresException server:
                    // Refused credentials (28…), a missing database (3D000), no connection (08…), too many clients (53…),
                    // a server starting or stopping (57P…); other errors are the statement's, not the connection's.
                    return server.SqlState[..2] is "28" or "3D" or "08" or "53" || server.SqlState.StartsWith("57P", StringComparison.Ordinal)
                        ? server.MessageText : null;
                case NpgsqlException client when client.InnerException is SocketException socket:
                    return Describe(socket);
                case NpgsqlException { InnerException: TimeoutException }:
                    return "the connection timed out";
                case NpgsqlException client when client.Message.StartsWith("Failed to connect", StringComparison.Ordinal):
                    return client.Message;
                case SqliteException sqlite:
                    return sqlite.SqliteErrorCode switch
                    {
                        14 => "the file cannot be opened or created (does its folder exist, and may IdentityHost write there?)",
                        8 => "the file is read-only",
                        26 => "the file is not a SQLite database",
                        _ => null,
                    };
                case IOException or UnauthorizedAccessException when sqliteFolder:
                    // Creating the SQLite file's folder failed (StorageExtensions).
                    return $"its folder cannot be created ({current.Message})";
            }
        }

        return null;
    }

    private static string Describe(SocketException socket) => socket.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "the connection timed out",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "the host name is not known",
        SocketError.NetworkUnreachable or SocketError.HostUnreachable => "the host cannot be reached",
        _ => socket.Message,
    };

    /// <summary>Where the database was looked for; never the password or any other part of the connection string.</summary>
    private static string Where(bool postgres, string? configured, string contentRoot)
    {
        try
        {
            if (postgres)
            {
                var connection = new NpgsqlConnectionStringBuilder(configured);
                var host = connection.Host is { } name && !name.Contains(',', StringComparison.Ordinal) ? $"{name}:{connection.Port}" : connection.Host;
                return $", host {host}" + (connection.Database is { } database ? $", database {database}" : "");
            }

            var file = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(configured) ? StorageExtensions.DefaultSqliteConnectionString : configured).DataSource;
            return $", file {RepositoryPaths.Resolve(contentRoot, file)}";
        }
        catch (ArgumentException)
        {
            return "";
        }
    }
}
