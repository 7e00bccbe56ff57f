using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace IdentityHost.Tests.Hosting;

/// <summary>/health/live answers while the process runs; /health/ready also needs the database and the keys.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Live_Returns200_WithoutChecks()
    {
        using var factory = new IdentityHostFactory();

        var (status, body, response) = await GetAsync(factory, "/health/live");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Empty(body.GetProperty("checks").EnumerateObject());
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task Ready_Returns200_WhenDatabaseAnswersAndKeysAreLoaded()
    {
        using var factory = new IdentityHostFactory();

        var (status, body, _) = await GetAsync(factory, "/health/ready");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("keys").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_Returns503_WhenDatabaseCannotBeOpened_LiveStays200()
    {
        using var factory = new IdentityHostFactory();
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(factory, "/health/ready")).Status);

        // The database file becomes a directory: SQLite can no longer open it, deterministically.
        var database = Path.Combine(factory.Folder.Path, "identityhost.db");
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { database, database + "-wal", database + "-shm" }.Where(File.Exists))
        {
            File.Delete(file);
        }

        Directory.CreateDirectory(database);

        var (status, body, _) = await GetAsync(factory, "/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
        var check = body.GetProperty("checks").GetProperty("database");
        Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
        Assert.DoesNotContain(factory.Folder.Path, check.GetProperty("description").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("keys").GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(factory, "/health/live")).Status);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> GetAsync(IdentityHostFactory factory, string path)
    {
        var response = await factory.CreateClient().GetAsync(path);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, body, response);
    }
}
