using System.Net;
using System.Xml.Linq;
using IdentityHost.Keys;
using IdentityHost.Seeding;
using IdentityHost.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace IdentityHost.Tests.Hosting;

/// <summary>
/// Databases from before the Data Protection key ring was encrypted hold their keys in plain text. At start-up those keys
/// are encrypted with the keys folder's encryptor and a new key takes over at once: a copy of the database alone opens
/// nothing protected from then on, and what the old keys protected (refresh tokens) still opens.
/// </summary>
public sealed class KeyRingUpgradeTests
{
    private static readonly XNamespace DataProtection = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly byte[] Payload = [1, 2, 3, 4];

    [Fact]
    public async Task PlainKeysFromAnEarlierVersion_AreEncryptedAtStartUp_AndANewKeyTakesOver()
    {
        using var folder = new TestFolder();
        ProtocolResponse issued;
        byte[] protectedBefore;
        using (var earlier = EarlierVersion(folder))
        {
            issued = await earlier.CreateTokenClient().PasswordAsync();
            protectedBefore = Protector(earlier).Protect(Payload);
            Assert.All(await StoredKeysAsync(earlier), key => Assert.Contains("<value>", key.Xml)); // stored in plain text
        }

        using var upgraded = new IdentityHostFactory { Folder = folder };
        Assert.Null(upgraded.TryStart());

        var stored = await StoredKeysAsync(upgraded);
        Assert.Equal(2, stored.Count);
        Assert.All(stored, key => AssertEncryptedWithTheKeysFolder(key.Xml));
        Assert.Equal(HttpStatusCode.OK, (await upgraded.CreateTokenClient().RefreshAsync(issued.RefreshToken)).Status);
        Assert.Equal(Payload, Protector(upgraded).Unprotect(protectedBefore));

        // What is protected from now on is under the new key, which was never stored in plain text.
        var newest = upgraded.Services.GetRequiredService<IKeyManager>().GetAllKeys().MaxBy(key => key.CreationDate)!;
        Assert.Equal(newest.KeyId, KeyIdOf(Protector(upgraded).Protect(Payload)));
        Assert.NotEqual(newest.KeyId, KeyIdOf(protectedBefore));
    }

    [RequiresPostgresFact]
    public async Task InstancesUpgradingTogether_TakeTurns_EncryptOnce_AndMakeOneNewKey()
    {
        using var folder = new TestFolder(TestDatabase.Postgres);
        ProtocolResponse issued;
        List<(string? FriendlyName, string Xml)> plain;
        using (var earlier = EarlierVersion(folder))
        {
            issued = await earlier.CreateTokenClient().PasswordAsync();
            plain = await StoredKeysAsync(earlier);
        }

        using var a = new IdentityHostFactory { Folder = folder };
        using var b = new IdentityHostFactory { Folder = folder };
        Assert.Null(a.TryStart());
        Assert.Null(b.TryStart());
        await RestorePlainKeysAsync(a, plain); // as if neither had started yet

        // While another instance holds the start-up lock, no instance touches the key ring.
        await using var other = new NpgsqlConnection(folder.ConnectionString);
        await other.OpenAsync();
        var otherStartUp = await other.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({DatabaseInitializer.StartupLockId})", other, otherStartUp))
        {
            await command.ExecuteNonQueryAsync();
        }

        var initializers = new[] { a, b, a, b, a, b }.Select(host => host.Services.GetRequiredService<DatabaseInitializer>()).ToList();
        var starting = Task.WhenAll(initializers.Select(initializer => Task.Run(() => initializer.EnsureDataProtectionKeyAsync(CancellationToken.None))));
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        Assert.False(starting.IsCompleted);
        Assert.Equal(plain, await StoredKeysAsync(a));

        await otherStartUp.RollbackAsync();
        await starting;

        var stored = await StoredKeysAsync(a);
        Assert.Equal(plain.Count + 1, stored.Count);
        Assert.All(stored, key => AssertEncryptedWithTheKeysFolder(key.Xml));
        using var next = new IdentityHostFactory { Folder = folder };
        Assert.Equal(HttpStatusCode.OK, (await next.CreateTokenClient().RefreshAsync(issued.RefreshToken)).Status);
    }

    /// <summary>A server as versions before the encrypted key ring ran: Data Protection keys stored unencrypted.</summary>
    private static IdentityHostFactory EarlierVersion(TestFolder folder) => new()
    {
        Folder = folder,
        ServiceOverrides = services => services.PostConfigure<KeyManagementOptions>(options => options.XmlEncryptor = null),
    };

    private static IDataProtector Protector(IdentityHostFactory factory) =>
        factory.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("KeyRingUpgradeTests");

    /// <summary>The key a payload was protected with: its id follows the 4-byte magic header.</summary>
    private static Guid KeyIdOf(byte[] payload) => new(payload.AsSpan(4, 16));

    private static void AssertEncryptedWithTheKeysFolder(string xml)
    {
        var key = XElement.Parse(xml);
        Assert.DoesNotContain(key.Descendants(), element => element.Attribute(DataProtection + "requiresEncryption") is not null);
        Assert.DoesNotContain(key.Descendants(), element => element.Name.LocalName is "masterKey" or "value");
        var secret = Assert.Single(key.Descendants(DataProtection + "encryptedSecret"));
        Assert.StartsWith(typeof(KeyFolderXmlDecryptor).FullName + ",", (string?)secret.Attribute("decryptorType"));
        Assert.Single(secret.Elements("identityHostEncryptedKey"));
    }

    private static async Task<List<(string? FriendlyName, string Xml)>> StoredKeysAsync(IdentityHostFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var rows = await scope.ServiceProvider.GetRequiredService<ApplicationDbContext>().DataProtectionKeys.AsNoTracking().ToListAsync();
        return rows.Select(row => (row.FriendlyName, row.Xml!)).ToList();
    }

    private static async Task RestorePlainKeysAsync(IdentityHostFactory factory, List<(string? FriendlyName, string Xml)> keys)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        await db.DataProtectionKeys.ExecuteDeleteAsync();
        db.DataProtectionKeys.AddRange(keys.Select(key => new DataProtectionKey { FriendlyName = key.FriendlyName, Xml = key.Xml }));
        await db.SaveChangesAsync();
    }
}
