using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityHost.Keys;
using IdentityHost.Engine;
using IdentityHost.Storage;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.DataProtection;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Tests.HotPath;

/// <summary>
/// The refresh hot path reads and writes tokens with plain SQL (TokenStore, Rotation), caches
/// applications across requests, stores the payloads behind refresh tokens in OpenIddict's Data Protection format and
/// signs other stored payloads with HMAC keys (StoredPayloadSigning). These tests pin down
/// that what it stores is what OpenIddict's own stores would have stored, and that the shortcuts change nothing a
/// client or an operator can see. Every test database engine runs them (see .ci/run).
/// </summary>
public sealed class HotPathStorageTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task Refresh_StoresRowsOpenIddictsOwnApisRead_AsOpenIddictWouldHave()
    {
        var client = factory.CreateTokenClient();
        var first = await client.PasswordAsync();
        var second = await client.RefreshAsync(first.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, second.Status);

        await using var scope = factory.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var postman = await applications.GetIdAsync((await applications.FindByClientIdAsync("postman"))!);

        // The new refresh token: found by its handle through OpenIddict's manager (which hashes the handle the same
        // way), complete in one row: type, status, subject, application, family, dates, an encrypted payload.
        var fresh = await tokens.FindByReferenceIdAsync(second.RefreshToken);
        Assert.NotNull(fresh);
        Assert.True(await tokens.HasTypeAsync(fresh, TokenTypeIdentifiers.RefreshToken));
        Assert.True(await tokens.HasStatusAsync(fresh, Statuses.Valid));
        Assert.Equal(postman, await tokens.GetApplicationIdAsync(fresh));
        Assert.Equal(Jwt.Payload(second.AccessToken).GetProperty("sub").GetString(), await tokens.GetSubjectAsync(fresh));
        Assert.NotNull(await tokens.GetCreationDateAsync(fresh));
        Assert.True(await tokens.GetExpirationDateAsync(fresh) > await tokens.GetCreationDateAsync(fresh));
        AssertProtected(await tokens.GetPayloadAsync(fresh), await tokens.GetSubjectAsync(fresh));
        Assert.Equal(
            Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(second.RefreshToken))),
            await tokens.GetReferenceIdAsync(fresh)); // only the hash of the handle is stored
        // The access token issued with it has no row; its jti is kept here for the reuse leeway.
        Assert.Equal(Jwt.Payload(second.AccessToken).GetProperty("jti").GetString(),
            (await tokens.GetPropertiesAsync(fresh))[IdentityHost.Tokens.AccessTokenRevocations.SiblingProperty].GetProperty("jti").GetString());

        // The spent one is redeemed, with its redemption date; both are in the same family as the new access token.
        var spent = await tokens.FindByReferenceIdAsync(first.RefreshToken);
        Assert.NotNull(spent);
        Assert.True(await tokens.HasStatusAsync(spent, Statuses.Redeemed));
        Assert.NotNull(await tokens.GetRedemptionDateAsync(spent));

        // The redemption wrote only what changed (TokenStore): every other column is as the sign-in stored it.
        Assert.True(await tokens.HasTypeAsync(spent, TokenTypeIdentifiers.RefreshToken));
        Assert.Equal(postman, await tokens.GetApplicationIdAsync(spent));
        Assert.Equal(await tokens.GetSubjectAsync(fresh), await tokens.GetSubjectAsync(spent));
        AssertProtected(await tokens.GetPayloadAsync(spent), await tokens.GetSubjectAsync(spent));
        Assert.Equal(
            Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(first.RefreshToken))),
            await tokens.GetReferenceIdAsync(spent));
        Assert.True(await tokens.GetExpirationDateAsync(spent) > await tokens.GetCreationDateAsync(spent));
        var family = await tokens.GetAuthorizationIdAsync(fresh);
        Assert.False(string.IsNullOrEmpty(family));
        Assert.Equal(family, await tokens.GetAuthorizationIdAsync(spent));

        // Listed through EF Core (a query the lean store leaves to OpenIddict): 2 sign-ins' worth of rows, each once
        // (access tokens have no rows: AccessTokenRowTests).
        var members = new List<string>();
        await foreach (var member in tokens.FindByAuthorizationIdAsync(family!))
        {
            members.Add(await tokens.GetTypeAsync(member) ?? "");
        }

        Assert.Equal(2, members.Count(type => type == TokenTypeIdentifiers.RefreshToken));
        Assert.Equal(0, members.Count(type => type == TokenTypeIdentifiers.AccessToken));
    }

    [Fact]
    public async Task StoredPayloadSigningKeys_AreNeverPublished_AndAccessTokensStayAsymmetric()
    {
        var http = factory.CreateClient();
        using var jwks = JsonDocument.Parse(await http.GetStringAsync("/.well-known/jwks"));
        using var discovery = JsonDocument.Parse(await http.GetStringAsync("/.well-known/openid-configuration"));

        foreach (var key in jwks.RootElement.GetProperty("keys").EnumerateArray())
        {
            Assert.NotEqual("oct", key.GetProperty("kty").GetString());
            Assert.False(key.TryGetProperty("k", out _));
        }

        if (discovery.RootElement.TryGetProperty("id_token_signing_alg_values_supported", out var algorithms))
        {
            Assert.DoesNotContain(algorithms.EnumerateArray(), algorithm => algorithm.GetString()!.StartsWith("HS", StringComparison.Ordinal));
        }

        var tokens = await factory.CreateTokenClient().PasswordAsync();
        var refreshed = await factory.CreateTokenClient().RefreshAsync(tokens.RefreshToken);
        Assert.Equal("RS256", Jwt.Header(tokens.AccessToken).GetProperty("alg").GetString());
        Assert.Equal("RS256", Jwt.Header(refreshed.AccessToken).GetProperty("alg").GetString());
    }

    [Fact]
    public async Task RefreshTokenWhosePayloadWasStoredAsJwt_ByEarlierVersions_StillRotates()
    {
        // Earlier versions stored the payload behind a refresh token as a JWT. Such rows stay in the database for up to
        // the absolute lifetime, and must keep working after an upgrade.
        using var folder = new TestFolder();
        ProtocolResponse issued;
        using (var earlier = new IdentityHostFactory
        {
            Folder = folder,
            ServiceOverrides = services => services.Configure<OpenIddictServerDataProtectionOptions>(options => options.PreferDefaultRefreshTokenFormat = true),
        })
        {
            issued = await earlier.CreateTokenClient().PasswordAsync();

            // That payload: encrypted, and inside signed with HS256 by the HMAC key derived from the very encryption
            // key that encrypted it (StoredPayloadSigning), not by the RSA key.
            await using var scope = earlier.Services.CreateAsyncScope();
            var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
            var payload = await manager.GetPayloadAsync((await manager.FindByReferenceIdAsync(issued.RefreshToken))!);
            var encrypted = new JsonWebToken(payload);
            var encryptionKey = KeyFiles.LoadEncryptionKeys(folder.KeysPath).Single(key => key.KeyId == encrypted.Kid);
            var inner = new JsonWebTokenHandler().DecryptToken(encrypted, new TokenValidationParameters { TokenDecryptionKeys = [encryptionKey] });
            var signed = new JsonWebToken(inner);
            Assert.Equal(SecurityAlgorithms.HmacSha256, signed.Alg);
            Assert.Equal(StoredPayloadSigning.Derive(encryptionKey).Key.KeyId, signed.Kid);
        }

        using var current = new IdentityHostFactory { Folder = folder };
        var client = current.CreateTokenClient();
        var refreshed = await client.RefreshAsync(issued.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal(Jwt.Payload(issued.AccessToken).GetProperty("sub").GetString(), Jwt.Payload(refreshed.AccessToken).GetProperty("sub").GetString());
        Assert.Equal(Jwt.Payload(issued.AccessToken).GetProperty("oi_au_id").GetString(), Jwt.Payload(refreshed.AccessToken).GetProperty("oi_au_id").GetString());

        await using (var scope = current.Services.CreateAsyncScope())
        {
            var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
            var successor = (await manager.FindByReferenceIdAsync(refreshed.RefreshToken))!;
            AssertProtected(await manager.GetPayloadAsync(successor), await manager.GetSubjectAsync(successor));
        }

        // Rotation and replay detection are unchanged across the two formats.
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(refreshed.RefreshToken)).Status);
        var replay = await client.RefreshAsync(issued.RefreshToken);
        Assert.Equal("invalid_grant", replay.Error);
    }

    [Fact]
    public async Task DataProtectionKey_IsCreatedAtStartUp_OnceForTheDatabase()
    {
        // The payloads behind refresh tokens depend on the Data Protection key ring in the database: its first key
        // exists before the first request (so instances starting together agree on it), and a restart adds none.
        using var folder = new TestFolder();
        using (var first = new IdentityHostFactory { Folder = folder })
        {
            Assert.Null(first.TryStart());
            Assert.Single(first.Services.GetRequiredService<IKeyManager>().GetAllKeys());
        }

        using var second = new IdentityHostFactory { Folder = folder };
        Assert.Null(second.TryStart());
        Assert.Single(second.Services.GetRequiredService<IKeyManager>().GetAllKeys());
        Assert.Equal(HttpStatusCode.OK, (await second.CreateTokenClient().RefreshAsync((await second.CreateTokenClient().PasswordAsync()).RefreshToken)).Status);
        Assert.Single(second.Services.GetRequiredService<IKeyManager>().GetAllKeys());

        // Stored encrypted with a key from the keys folder (KeyFolderXmlEncryptor): the database alone opens nothing.
        await using var scope = second.Services.CreateAsyncScope();
        var stored = Assert.Single(await scope.ServiceProvider.GetRequiredService<ApplicationDbContext>().DataProtectionKeys.ToListAsync());
        Assert.Contains("<identityHostEncryptedKey kid=", stored.Xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<masterKey", stored.Xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<value>", stored.Xml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithAnotherKeysFolder_TheDatabasesRefreshTokensDoNotOpen()
    {
        // The other half of the above: the same database with a keys folder that does not belong to it cannot open the
        // Data Protection keys, so its refresh tokens are refused (never a 500).
        using var folder = new TestFolder();
        using var stranger = new TestFolder();
        ProtocolResponse issued;
        using (var host = new IdentityHostFactory { Folder = folder })
        {
            issued = await host.CreateTokenClient().PasswordAsync();
        }

        Directory.Delete(folder.KeysPath, recursive: true);
        using (var other = new IdentityHostFactory { Folder = stranger })
        {
            Assert.Null(other.TryStart()); // a fresh keys folder of its own
        }

        CopyDirectory(stranger.KeysPath, folder.KeysPath);
        using var restarted = new IdentityHostFactory { Folder = folder };
        var refused = await restarted.CreateTokenClient().RefreshAsync(issued.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("invalid_grant", refused.Error);

        // New sign-ins work (Data Protection makes itself a key it can open).
        var fresh = await restarted.CreateTokenClient().PasswordAsync();
        Assert.Equal(HttpStatusCode.OK, (await restarted.CreateTokenClient().RefreshAsync(fresh.RefreshToken)).Status);

        static void CopyDirectory(string from, string to)
        {
            Directory.CreateDirectory(to);
            foreach (var file in Directory.GetFiles(from))
            {
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
            }
        }
    }

    /// <summary>
    /// A payload in OpenIddict's Data Protection format: not a JWT, nothing readable in it (the subject least of all),
    /// only the server's Data Protection keys open it.
    /// </summary>
    private static void AssertProtected(string? payload, string? subject)
    {
        Assert.NotNull(payload);
        Assert.NotNull(subject);
        Assert.StartsWith("CfDJ8", payload, StringComparison.Ordinal); // Data Protection's magic header, base64url
        Assert.DoesNotContain('.', payload);
        var bytes = Base64UrlEncoder.DecodeBytes(payload);
        Assert.True(bytes.Length > 100);
        Assert.DoesNotContain(subject, Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.DoesNotContain(subject, payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplicationChangedThroughTheManager_IsSeenByTheNextRequest_NotAfterTheCacheExpires()
    {
        await using var own = new IdentityHostFactory();
        var client = own.CreateTokenClient();
        var tokens = await client.PasswordAsync();
        var refreshed = await client.RefreshAsync(tokens.RefreshToken); // postman is now cached
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);

        await using (var scope = own.Services.CreateAsyncScope())
        {
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var postman = (await applications.FindByClientIdAsync("postman"))!;
            var descriptor = new OpenIddictApplicationDescriptor();
            await applications.PopulateAsync(descriptor, postman);
            descriptor.Permissions.Remove(Permissions.GrantTypes.RefreshToken);
            await applications.UpdateAsync(postman, descriptor);
        }

        var refused = await client.RefreshAsync(refreshed.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal(Errors.UnauthorizedClient, refused.Error);
    }

    [Fact]
    public async Task ATokenRevokedInBulkWhileARequestHoldsIt_IsNeverRedeemedAfterwards()
    {
        var tokens = await factory.CreateTokenClient().PasswordAsync();

        await using var request = factory.Services.CreateAsyncScope();
        var manager = request.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        var held = await manager.FindByReferenceIdAsync(tokens.RefreshToken);
        Assert.NotNull(held);

        // Another request revokes the whole family meanwhile: one bulk UPDATE, which leaves the concurrency token as is.
        await using (var other = factory.Services.CreateAsyncScope())
        {
            var otherManager = other.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
            Assert.True(await otherManager.RevokeByAuthorizationIdAsync((await manager.GetAuthorizationIdAsync(held))!) > 0);
        }

        Assert.False(await manager.TryRedeemAsync(held));

        await using var check = factory.Services.CreateAsyncScope();
        var stored = await check.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().FindByReferenceIdAsync(tokens.RefreshToken);
        Assert.True(await check.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().HasStatusAsync(stored!, Statuses.Revoked));
        Assert.Equal(HttpStatusCode.BadRequest, (await factory.CreateTokenClient().RefreshAsync(tokens.RefreshToken)).Status);
    }

    [Fact]
    public async Task Refresh_WhileAnotherConnectionHoldsTheWriteLock_WaitsForIt_AndThenRotates()
    {
        if (factory.Folder.Provider != TestDatabase.Sqlite)
        {
            return; // PostgreSQL locks rows, not the database: nothing to wait for
        }

        // The refresh's plain SQL (PreparedSql) and its write transaction run on connections the request context keeps
        // open; like every SQLite connection here they must wait for the lock (busy timeout, Microsoft.Data.Sqlite's
        // retries) instead of failing with "database is locked", and the token must rotate once the lock is free.
        var client = factory.CreateTokenClient();
        var first = await client.PasswordAsync();
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        Task<ProtocolResponse> refresh;
        await using (var writer = await db.Database.BeginTransactionAsync())
        {
            // BEGIN IMMEDIATE: this connection holds SQLite's write lock until it commits.
            refresh = client.RefreshAsync(first.RefreshToken);
            await Task.Delay(400);
            Assert.False(refresh.IsCompleted, "the refresh finished while another connection held the write lock");
            await writer.CommitAsync();
        }

        var second = await refresh;
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(second.RefreshToken)).Status);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(first.RefreshToken)).Error);
    }
}
