using System.Net;

namespace IdentityHost.Tests.Hosting;

/// <summary>
/// Configuration is the source of truth for clients. A client removed from it is deleted at the next start with its
/// token families: it can no longer authenticate, its refresh tokens are refused and its tokens introspect inactive.
/// Each test restarts the server on the same database, as an operator would (which also empties the client caches).
/// </summary>
public sealed class ClientRemovalTests
{
    private static readonly Dictionary<string, string?> Retired = new(StringComparer.Ordinal)
    {
        ["IdentityHost:Clients:retired:Secret"] = "retired-secret",
        ["IdentityHost:Clients:retired:FirstParty"] = "true",
        ["IdentityHost:Clients:retired:Grants:0"] = "password",
        ["IdentityHost:Clients:retired:Grants:1"] = "client_credentials",
        ["IdentityHost:Clients:retired:Grants:2"] = "refresh_token",
        ["IdentityHost:Clients:retired:Scopes:0"] = "offline_access",
        ["IdentityHost:Clients:retired:Scopes:1"] = "api",
        ["IdentityHost:Clients:retired-app:FirstParty"] = "true",
        ["IdentityHost:Clients:retired-app:Grants:0"] = "password",
        ["IdentityHost:Clients:retired-app:Grants:1"] = "refresh_token",
        ["IdentityHost:Clients:retired-app:Scopes:0"] = "offline_access",
        ["IdentityHost:Clients:retired-app:Scopes:1"] = "api",
    };

    [Fact]
    public async Task ClientRemovedFromConfiguration_CannotAuthenticate_AndItsTokensDie()
    {
        using var folder = new TestFolder();
        ProtocolResponse service, user, publicUser;
        using (var before = new IdentityHostFactory { Folder = folder, Settings = new(Retired) })
        {
            var client = before.CreateTokenClient();
            service = await client.ClientCredentialsAsync(clientId: "retired", secret: "retired-secret");
            user = await client.PasswordAsync(scope: "offline_access api", clientId: "retired", secret: "retired-secret");
            publicUser = await client.PasswordAsync(scope: "offline_access api", clientId: "retired-app", secret: null);
            Assert.True((await client.IntrospectAsync(user.AccessToken)).Body.GetProperty("active").GetBoolean());
        }

        using var after = new IdentityHostFactory { Folder = folder };
        var restarted = after.CreateTokenClient();

        var authenticate = await restarted.ClientCredentialsAsync(clientId: "retired", secret: "retired-secret");
        Assert.Equal(HttpStatusCode.Unauthorized, authenticate.Status);
        Assert.Equal("invalid_client", authenticate.Error);

        Assert.Equal("invalid_client", (await restarted.RefreshAsync(user.RefreshToken, "retired", "retired-secret")).Error);
        Assert.Equal("invalid_client", (await restarted.RefreshAsync(publicUser.RefreshToken, "retired-app", null)).Error);
        Assert.Equal("invalid_grant", (await restarted.RefreshAsync(user.RefreshToken)).Error); // presented by another client

        foreach (var token in new[] { service.AccessToken, user.AccessToken, publicUser.AccessToken })
        {
            Assert.False((await restarted.IntrospectAsync(token)).Body.GetProperty("active").GetBoolean());
        }

        // The clients still configured are untouched.
        Assert.Equal(HttpStatusCode.OK, (await restarted.ClientCredentialsAsync()).Status);
        Assert.Contains(after.Logs.At(Serilog.Events.LogEventLevel.Warning), line => line.Contains("retired", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConfidentialClientLosingItsSecret_StopsStartUp_NamingTheKey()
    {
        using var folder = new TestFolder(TestDatabase.Sqlite);
        using (var before = new IdentityHostFactory { Folder = folder, Settings = new(Retired) })
        {
            Assert.Null(before.TryStart());
        }

        var (exitCode, output, errors) = await ServerProcess.RunIdentityHostToExitAsync(folder, new()
        {
            ["IdentityHost__Clients__retired__FirstParty"] = "true",
            ["IdentityHost__Clients__retired__Grants__0"] = "password",
            ["IdentityHost__Clients__retired__Grants__1"] = "refresh_token",
            ["IdentityHost__Clients__retired__Scopes__0"] = "offline_access",
        });

        Assert.Equal(1, exitCode);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("IdentityHost:Clients:retired:Secret is missing", line);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Now listening on", output);
    }
}
