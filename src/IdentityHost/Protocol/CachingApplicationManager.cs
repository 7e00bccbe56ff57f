using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHost.Protocol;

/// <summary>
/// OpenIddict's application manager with successful client-secret checks remembered for a few minutes. The check is a
/// deliberately slow PBKDF2 hash (about 2 ms, a third of a refresh); a confidential client presents the same secret on
/// every request. Only successes are cached, keyed by a SHA-256 of the presented secret and the stored hash: a wrong
/// secret is always hashed in full, and a secret changed in configuration (a new stored hash) misses the cache at once.
/// The secret itself is never kept.
/// </summary>
public sealed class CachingApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    SecretCheckCache verified)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>(cache, logger, options, store)
{
    protected override async ValueTask<bool> ValidateClientSecretAsync(string secret, string comparand, CancellationToken cancellationToken = default)
    {
        var key = SecretCheckCache.Key(secret, comparand);
        if (verified.Contains(key))
        {
            return true;
        }

        var valid = await base.ValidateClientSecretAsync(secret, comparand, cancellationToken);
        if (valid)
        {
            verified.Add(key);
        }

        return valid;
    }
}

/// <summary>Successful client-secret checks, by SHA-256 of secret and stored hash; bounded in size and age.</summary>
public sealed class SecretCheckCache : IDisposable
{
    /// <summary>How long a successful check is reused. A secret removed from the store stops working within this time at most.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly MemoryCache entries = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public static string Key(string secret, string comparand) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(secret + "\n" + comparand)));

    public bool Contains(string key) => entries.TryGetValue(key, out _);

    public void Add(string key) =>
        entries.Set(key, true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime });

    public void Dispose() => entries.Dispose();
}
