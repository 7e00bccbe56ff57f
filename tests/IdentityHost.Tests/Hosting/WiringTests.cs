using System.Net;
using IdentityHost.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace IdentityHost.Tests.Hosting;

public sealed class WiringTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public void ApplicationManager_IsTheCachingOne()
    {
        using var scope = factory.Services.CreateScope();

        Assert.IsType<CachingApplicationManager>(scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>());
    }

    [Fact]
    public async Task SecretCache_NeverLetsAWrongSecretThrough_AfterARightOne()
    {
        var client = factory.CreateTokenClient();
        Assert.Equal(HttpStatusCode.OK, (await client.ClientCredentialsAsync()).Status);

        var wrong = await client.ClientCredentialsAsync(secret: "service-secreT");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal("invalid_client", wrong.Error);
    }

    [Fact]
    public async Task SqliteConnections_CarryTheBusyTimeout_EvenWhenReusedFromThePool()
    {
        if (factory.Folder.Provider != TestDatabase.Sqlite)
        {
            return; // a PostgreSQL run: no SQLite connection to look at
        }

        for (var round = 0; round < 2; round++)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var connection = scope.ServiceProvider.GetRequiredService<IdentityHost.Storage.ApplicationDbContext>().Database.GetDbConnection();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout";
            Assert.Equal(5000L, await command.ExecuteScalarAsync());
        }
    }
}
