using System.Security.Cryptography;
using System.Text;
using IdentityHost.Engine;

namespace IdentityHost.Tests.Protocol;

/// <summary>
/// The cache of successful client-secret checks must not turn the stored PBKDF2 hash into a fast hash: its keys are
/// HMACs under a random key of the process, so a memory dump of the keys cannot be used to test guessed secrets.
/// </summary>
public sealed class SecretCheckCacheTests
{
    private const string Secret = "service-secret";
    private const string StoredHash = "AQAAAAEAACcQAAAAEExampleStoredPbkdf2HashOfTheSecret==";

    [Fact]
    public void Key_IsNotAPlainHashOfTheSecretAndStoredHash()
    {
        using var cache = new SecretCheckCache();

        var key = cache.Key(Secret, StoredHash);

        Assert.NotEqual(Sha256(Secret + "\n" + StoredHash), key);
        Assert.NotEqual(Sha256(Secret + StoredHash), key);
        Assert.Equal(32, Convert.FromBase64String(key).Length);
    }

    [Fact]
    public void Key_IsStableWithinAProcess_AndDiffersBetweenProcesses()
    {
        using var one = new SecretCheckCache();
        using var other = new SecretCheckCache();

        Assert.Equal(one.Key(Secret, StoredHash), one.Key(Secret, StoredHash));
        Assert.NotEqual(one.Key(Secret, StoredHash), other.Key(Secret, StoredHash));
        Assert.NotEqual(one.Key(Secret, StoredHash), one.Key(Secret + "x", StoredHash));
    }

    private static string Sha256(string value) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
