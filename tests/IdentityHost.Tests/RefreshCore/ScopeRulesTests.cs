using System.Net;

namespace IdentityHost.Tests.RefreshCore;

/// <summary>RFC 6749 §6: a refresh keeps or narrows its family's scopes, never widens them, never beyond what the client may have now.</summary>
public sealed class ScopeRulesTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task Refresh_AskingForAScopeNotGranted_IsInvalidScope_AndSpendsNothing()
    {
        var tokens = await client.PasswordAsync(scope: "offline_access api");

        var widened = await client.PostAsync("connect/token", "postman", "postman-secret", new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = tokens.RefreshToken,
            ["scope"] = "api api.write",
        });

        Assert.Equal(HttpStatusCode.BadRequest, widened.Status);
        Assert.Equal("invalid_scope", widened.Error);
        Assert.Contains("api.write", widened["error_description"]);
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(tokens.RefreshToken)).Status);
    }

    [Fact]
    public async Task Refresh_AskingForANarrowerScope_IssuesExactlyThatScope()
    {
        var tokens = await client.PasswordAsync(scope: "openid offline_access api api.write");

        var narrowed = await client.PostAsync("connect/token", "postman", "postman-secret", new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = tokens.RefreshToken,
            ["scope"] = "offline_access api",
        });

        Assert.Equal(HttpStatusCode.OK, narrowed.Status);
        Assert.Equal(["api", "offline_access"], Jwt.Payload(narrowed.AccessToken).GetProperty("scope").GetString()!.Split(' ').Order());
    }

    [Fact]
    public async Task Refresh_AfterTheClientLostAScope_NoLongerCarriesIt()
    {
        using var folder = new TestFolder();
        ProtocolResponse tokens;
        using (var before = new IdentityHostFactory { Folder = folder })
        {
            tokens = await before.CreateTokenClient().PasswordAsync(scope: "offline_access api api.write");
            Assert.Contains("api.write", Jwt.Payload(tokens.AccessToken).GetProperty("scope").GetString());
        }

        // The operator removes api.write from postman's configuration (index 5 of its scope list) and restarts.
        using var after = new IdentityHostFactory { Folder = folder, Settings = { ["IdentityHost:Clients:postman:Scopes:5"] = "api" } };

        var refreshed = await after.CreateTokenClient().RefreshAsync(tokens.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal(["api", "offline_access"], Jwt.Payload(refreshed.AccessToken).GetProperty("scope").GetString()!.Split(' ').Order());
    }
}
