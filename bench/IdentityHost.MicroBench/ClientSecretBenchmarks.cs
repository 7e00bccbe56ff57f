using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.MicroBench;

/// <summary>
/// Client authentication as every request of a confidential client pays for it: the client looked up by client_id
/// (OpenIddict's entity cache lives for one request scope, so each request queries the database) and the presented
/// secret checked against the stored PBKDF2 hash.
/// </summary>
[MemoryDiagnoser]
public class ClientSecretBenchmarks
{
    private const string ClientId = "postman", Secret = "postman-secret";
    private BenchDatabase database = null!;
    private AsyncServiceScope scope;
    private IOpenIddictApplicationManager applications = null!;
    private object application = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        database = await BenchDatabase.CreateAsync();
        scope = database.Services.CreateAsyncScope();
        applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        application = await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = ClientId,
            ClientSecret = Secret,
            ClientType = ClientTypes.Confidential,
            Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.RefreshToken },
        });
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await scope.DisposeAsync();
        await database.DisposeAsync();
    }

    /// <summary>OpenIddict's PBKDF2 check of the presented secret against the stored hash.</summary>
    [Benchmark(Baseline = true)]
    public async Task<bool> ValidateClientSecret() => await applications.ValidateClientSecretAsync(application, Secret);

    /// <summary>FindByClientIdAsync in a fresh scope, as a new request does it.</summary>
    [Benchmark]
    public async Task<object?> FindByClientIdPerRequest()
    {
        await using var request = database.Services.CreateAsyncScope();
        return await request.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().FindByClientIdAsync(ClientId);
    }
}
