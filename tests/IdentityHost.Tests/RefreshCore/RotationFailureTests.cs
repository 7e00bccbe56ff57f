using System.Net;
using IdentityHost.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Events;

namespace IdentityHost.Tests.RefreshCore;

/// <summary>
/// Only a lost race is a replay. A database failure while a refresh is rotated (a timeout, a deadlock, a full disk) is
/// answered as retriable, revokes nothing, raises no theft alarm, and leaves the presented token usable. The failure is
/// injected with a database trigger that refuses to store a new refresh token, on SQLite and PostgreSQL alike.
/// </summary>
public sealed class RotationFailureTests
{
    [Fact]
    public async Task Refresh_WhenTheDatabaseFailsMidRotation_Is503_RevokesNothing_AndTheSameTokenWorksAfter()
    {
        using var factory = new IdentityHostFactory();
        var client = factory.CreateTokenClient();
        var tokens = await client.PasswordAsync();

        await InjectFailureAsync(factory, on: true);
        var failed = await client.RefreshAsync(tokens.RefreshToken);
        await InjectFailureAsync(factory, on: false);

        Assert.True(failed.Status == HttpStatusCode.ServiceUnavailable, failed.Body.ToString());
        Assert.Equal("temporarily_unavailable", failed.Error);
        Assert.Equal("1", failed.Headers.RetryAfter?.ToString());
        Assert.DoesNotContain(factory.Logs.At(LogEventLevel.Warning), line => line.Contains("Security", StringComparison.Ordinal));
        Assert.True((await client.IntrospectAsync(tokens.AccessToken)).Body.GetProperty("active").GetBoolean());

        var retried = await client.RefreshAsync(tokens.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, retried.Status);
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(retried.RefreshToken)).Status);
    }

    private const string RefreshToken = OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.RefreshToken;

    private static async Task InjectFailureAsync(IdentityHostFactory factory, bool on)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        string[] statements = (factory.Folder.Provider, on) switch
        {
            (TestDatabase.Sqlite, true) =>
            [
                $"CREATE TRIGGER ih_injected_failure BEFORE INSERT ON \"OpenIddictTokens\" WHEN NEW.\"Type\" = '{RefreshToken}' " +
                "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
            ],
            (TestDatabase.Sqlite, false) => ["DROP TRIGGER ih_injected_failure"],
            (_, true) =>
            [
                "CREATE FUNCTION ih_injected_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER ih_injected_failure BEFORE INSERT ON \"OpenIddictTokens\" FOR EACH ROW " +
                $"WHEN (NEW.\"Type\" = '{RefreshToken}') EXECUTE FUNCTION ih_injected_failure()",
            ],
            (_, false) => ["DROP TRIGGER ih_injected_failure ON \"OpenIddictTokens\"", "DROP FUNCTION ih_injected_failure()"],
        };
        foreach (var statement in statements)
        {
            await db.Database.ExecuteSqlRawAsync(statement);
        }
    }
}
