using System.Globalization;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.MicroBench;

/// <summary>
/// Storing one refresh-token row on SQLite (WAL, synchronous=NORMAL), autocommitted: through OpenIddict's token
/// manager and EF Core store in a fresh scope, as a request did it before issue 5; through the same manager with
/// IdentityHost's <see cref="IdentityHost.Storage.Stores.TokenStore"/>, as a request does it now; and as one prepared
/// INSERT on an open connection, which is the floor any store can reach.
/// </summary>
[MemoryDiagnoser]
public class TokenStoreBenchmarks : IDisposable
{
    private readonly string payload = Convert.ToBase64String(RandomNumberGenerator.GetBytes(1200));
    private BenchDatabase database = null!;
    private BenchDatabase leanDatabase = null!;
    private string leanApplicationId = null!;
    private string leanAuthorizationId = null!;
    private string applicationId = null!;
    private string authorizationId = null!;
    private SqliteConnection connection = null!;
    private SqliteCommand insert = null!;
    private long counter;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        database = await BenchDatabase.CreateAsync();
        (applicationId, authorizationId) = await SeedAsync(database);
        leanDatabase = await BenchDatabase.CreateAsync(lean: true);
        (leanApplicationId, leanAuthorizationId) = await SeedAsync(leanDatabase);

        connection = new SqliteConnection(database.ConnectionString);
        connection.Open();
        using (var pragmas = connection.CreateCommand())
        {
            pragmas.CommandText = "PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL;";
            pragmas.ExecuteNonQuery();
        }

        insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO OpenIddictTokens (Id, ApplicationId, AuthorizationId, ConcurrencyToken, CreationDate, ExpirationDate, Payload, ReferenceId, Status, Subject, Type)
            VALUES ($id, $application, $authorization, $concurrency, $created, $expires, $payload, $reference, 'valid', 'alice', 'refresh_token')
            """;
        foreach (var name in new[] { "$id", "$application", "$authorization", "$concurrency", "$created", "$expires", "$payload", "$reference" })
        {
            insert.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        insert.Prepare();
    }

    private static async Task<(string Application, string Authorization)> SeedAsync(BenchDatabase target)
    {
        await using var scope = target.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var application = await applications.CreateAsync(new OpenIddictApplicationDescriptor { ClientId = "postman", ClientType = ClientTypes.Public });
        var applicationId = (await applications.GetIdAsync(application))!;

        var authorizations = scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
        var authorization = await authorizations.CreateAsync(new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = applicationId,
            CreationDate = DateTimeOffset.UtcNow,
            Status = Statuses.Valid,
            Subject = "alice",
            Type = AuthorizationTypes.AdHoc,
        });
        return (applicationId, (await authorizations.GetIdAsync(authorization))!);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        Dispose();
        await database.DisposeAsync();
        await leanDatabase.DisposeAsync();
    }

    public void Dispose()
    {
        insert.Dispose();
        connection.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public Task<object> OpenIddictTokenManager() => CreateAsync(database, applicationId, authorizationId);

    [Benchmark]
    public Task<object> TokenStore() => CreateAsync(leanDatabase, leanApplicationId, leanAuthorizationId);

    private async Task<object> CreateAsync(BenchDatabase target, string application, string authorization)
    {
        await using var scope = target.Services.CreateAsyncScope();
        var now = DateTimeOffset.UtcNow;
        return await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().CreateAsync(new OpenIddictTokenDescriptor
        {
            ApplicationId = application,
            AuthorizationId = authorization,
            CreationDate = now,
            ExpirationDate = now.AddDays(15),
            Payload = payload,
            ReferenceId = NextReference(),
            Status = Statuses.Valid,
            Subject = "alice",
            Type = TokenTypeHints.RefreshToken,
        });
    }

    [Benchmark]
    public int PreparedInsert()
    {
        var now = DateTime.UtcNow;
        insert.Parameters[0].Value = Guid.NewGuid().ToString();
        insert.Parameters[1].Value = applicationId;
        insert.Parameters[2].Value = authorizationId;
        insert.Parameters[3].Value = Guid.NewGuid().ToString();
        insert.Parameters[4].Value = now;
        insert.Parameters[5].Value = now.AddDays(15);
        insert.Parameters[6].Value = payload;
        insert.Parameters[7].Value = NextReference();
        return insert.ExecuteNonQuery();
    }

    private string NextReference() => (++counter).ToString("x16", CultureInfo.InvariantCulture) + "-reference";
}
