using System.Net;
using System.Text.Json;
using IdentityHost.Seeding;
using IdentityHost.Storage;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.Tests.ScaleOut;

/// <summary>
/// Two IdentityHost instances on one PostgreSQL database and one shared keys folder, no sticky sessions: tokens,
/// replay detection, races, browser sessions and key rotation all work across them.
/// </summary>
public sealed class MultiInstanceTests : IDisposable
{
    private readonly TestFolder folder = new(TestDatabase.Postgres);
    private readonly IdentityHostFactory a;
    private readonly IdentityHostFactory b;

    public MultiInstanceTests()
    {
        a = new IdentityHostFactory { Folder = folder };
        b = new IdentityHostFactory { Folder = folder };
    }

    private TokenClient A => a.CreateTokenClient();

    private TokenClient B => b.CreateTokenClient();

    [RequiresPostgresFact]
    public async Task RefreshTokenFromA_RefreshesOnB()
    {
        var tokens = await A.PasswordAsync();

        var refreshed = await B.RefreshAsync(tokens.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal(HttpStatusCode.OK, (await A.RefreshAsync(refreshed.RefreshToken)).Status);
    }

    [RequiresPostgresFact]
    public async Task ReuseIsDetectedAcrossInstances()
    {
        var first = await A.PasswordAsync();
        var second = await A.RefreshAsync(first.RefreshToken);

        Assert.Equal("invalid_grant", (await B.RefreshAsync(first.RefreshToken)).Error);

        Assert.Equal("invalid_grant", (await A.RefreshAsync(second.RefreshToken)).Error);
        Assert.False((await B.IntrospectAsync(second.AccessToken)).Body.GetProperty("active").GetBoolean());
    }

    [RequiresPostgresFact]
    public async Task TwentyParallelRefreshesSplitAcrossInstances_HaveExactlyOneWinner()
    {
        var tokens = await A.PasswordAsync();
        var clients = new[] { A, B };
        var next = 0;

        var responses = await Race.RunAsync(20, () => clients[Interlocked.Increment(ref next) % 2].RefreshAsync(tokens.RefreshToken));

        Assert.All(responses, response => Assert.True((int)response.Status < 500, response.ToString()));
        Assert.Single(responses, response => response.Status == HttpStatusCode.OK);
        Assert.All(responses.Where(response => response.Status != HttpStatusCode.OK), response => Assert.Equal("invalid_grant", response.Error));
    }

    [RequiresPostgresFact]
    public async Task BrowserSessionFromA_IsHonouredByB()
    {
        var onA = new BrowserSession(a);
        await onA.AuthorizeAsync();
        var onB = new BrowserSession(b, onA.Cookies);

        using var response = await onB.Http.GetAsync(onB.AuthorizeUrl());

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var code = BrowserSession.QueryValue(response.Headers.Location!, "code");
        Assert.NotNull(code);
        Assert.Equal(HttpStatusCode.OK, (await onB.RedeemAsync(code)).Status);
    }

    [RequiresPostgresFact]
    public async Task KeyRotatedOnA_IsServedByBWithinTheReloadInterval()
    {
        var before = await B.PasswordAsync();
        var rotated = a.Services.GetRequiredService<IdentityHost.Keys.KeyRing>().Rotate();
        Assert.DoesNotContain(rotated, await KidsAsync(b));

        b.Time.Advance(TimeSpan.FromMinutes(1));
        for (var attempt = 0; attempt < 50 && !(await KidsAsync(b)).Contains(rotated); attempt++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(rotated, (await KidsAsync(b))[0]);
        Assert.Contains(Jwt.Header(before.AccessToken).GetProperty("kid").GetString(), await KidsAsync(b));
        var after = await B.RefreshAsync(before.RefreshToken);
        Assert.Equal(rotated, Jwt.Header(after.AccessToken).GetProperty("kid").GetString());
    }

    [RequiresPostgresFact]
    public async Task FirstDataProtectionKey_IsCreatedOnce_WhenInstancesStartTogether()
    {
        // The payloads behind refresh tokens are protected with the Data Protection key ring in the database. Were each
        // instance to create a first key of its own, the other could not open its payloads: one key, made at start-up.
        Assert.Null(a.TryStart());
        Assert.Null(b.TryStart());
        await using (var scope = a.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ApplicationDbContext>().DataProtectionKeys.ExecuteDeleteAsync();
        }

        var starting = new[] { a, b, a, b, a, b }.Select(host => host.Services.GetRequiredService<DatabaseInitializer>());
        await Task.WhenAll(starting.Select(initializer => Task.Run(() => initializer.EnsureDataProtectionKeyAsync(CancellationToken.None))));

        Assert.Single(a.Services.GetRequiredService<IKeyManager>().GetAllKeys());
    }

    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
        folder.Dispose();
    }

    private static async Task<List<string?>> KidsAsync(IdentityHostFactory host)
    {
        var jwks = JsonDocument.Parse(await host.CreateClient().GetStringAsync("/.well-known/jwks")).RootElement;
        return jwks.GetProperty("keys").EnumerateArray().Select(key => key.GetProperty("kid").GetString()).ToList();
    }
}
