using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using IdentityHost.Keys;
using SampleApi.Tests.Infrastructure;

namespace SampleApi.Tests;

/// <summary>After `keys rotate` and a restart, old tokens stay valid at the API and new ones carry the new kid.</summary>
public sealed class KeyRotationTests
{
    [Fact]
    public async Task AfterRotation_OldTokensStayValidAndNewTokensUseTheNewKey()
    {
        using var folder = new TestFolder();
        ProtocolResponse before;
        using (var first = new IdentityHostFactory { Folder = folder })
        {
            before = await first.CreateTokenClient().PasswordAsync();
        }

        KeyFiles.Generate(folder.KeysPath, DateTimeOffset.UtcNow.AddSeconds(1));
        using var restarted = new IdentityHostFactory { Folder = folder };
        using var api = new SampleApiFactory(restarted);
        var client = restarted.CreateTokenClient();

        var after = await client.RefreshAsync(before.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, after.Status);
        var oldKid = Jwt.Header(before.AccessToken).GetProperty("kid").GetString();
        var newKid = Jwt.Header(after.AccessToken).GetProperty("kid").GetString();
        Assert.NotEqual(oldKid, newKid);
        Assert.Equal([newKid, oldKid], await PublishedKidsAsync(restarted));
        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(api, before.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(api, after.AccessToken));
    }

    [Fact]
    public async Task MigrationToES256_PublishesBothKeys_AndTheApiAcceptsBoth()
    {
        using var folder = new TestFolder();
        ProtocolResponse before;
        using (var rsaHost = new IdentityHostFactory { Folder = folder })
        {
            before = await rsaHost.CreateTokenClient().PasswordAsync();
        }

        KeyFiles.Generate(folder.KeysPath, DateTimeOffset.UtcNow.AddSeconds(1), "ES256");
        using var ecHost = new IdentityHostFactory { Folder = folder, Settings = { ["IdentityHost:SigningAlgorithm"] = "ES256" } };
        using var api = new SampleApiFactory(ecHost);

        var after = await ecHost.CreateTokenClient().RefreshAsync(before.RefreshToken);

        Assert.Equal("RS256", Jwt.Header(before.AccessToken).GetProperty("alg").GetString());
        Assert.Equal("ES256", Jwt.Header(after.AccessToken).GetProperty("alg").GetString());
        var jwks = JsonDocument.Parse(await ecHost.CreateClient().GetStringAsync("/.well-known/jwks")).RootElement.GetProperty("keys");
        Assert.Equal(["EC", "RSA"], jwks.EnumerateArray().Select(key => key.GetProperty("kty").GetString()));
        Assert.False(jwks[0].TryGetProperty("d", out _));
        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(api, before.AccessToken));
        Assert.Equal(HttpStatusCode.OK, await CallApiAsync(api, after.AccessToken));
    }

    [Fact]
    public async Task ReplacedKey_IsRetiredFromJwksOnceItsTokensHaveExpired()
    {
        using var folder = new TestFolder();
        var start = DateTimeOffset.UtcNow;
        KeyFiles.Generate(folder.KeysPath, start.AddHours(-3));
        KeyFiles.Generate(folder.KeysPath, start.AddHours(-2));
        KeyFiles.Generate(folder.KeysPath, start.AddMinutes(-10));
        using var host = new IdentityHostFactory { Folder = folder };

        var kids = await PublishedKidsAsync(host);

        // Newest signs; the one it replaced 10 minutes ago is still published (access tokens live 1 hour); the oldest is retired.
        Assert.Equal(2, kids.Count);
        Assert.Equal(Jwt.Header((await host.CreateTokenClient().PasswordAsync()).AccessToken).GetProperty("kid").GetString(), kids[0]);
        Assert.Equal(3, Directory.GetFiles(folder.KeysPath, "encryption-*").Length);
    }

    private static async Task<List<string?>> PublishedKidsAsync(IdentityHostFactory host)
    {
        var jwks = JsonDocument.Parse(await host.CreateClient().GetStringAsync("/.well-known/jwks")).RootElement;
        return jwks.GetProperty("keys").EnumerateArray().Select(key => key.GetProperty("kid").GetString()).ToList();
    }

    private static async Task<HttpStatusCode> CallApiAsync(SampleApiFactory api, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await api.CreateClient().SendAsync(request);
        return response.StatusCode;
    }
}
