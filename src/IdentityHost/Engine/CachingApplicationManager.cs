using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHost.Engine;

/// <summary>
/// OpenIddict's application manager with two caches across requests. Applications found by client id are reused for
/// <see cref="ApplicationCache.Lifetime"/> (OpenIddict's own entity cache lasts one request, so every token request
/// read its client from the database); a change made through this manager clears the cache at once, and a change made
/// by another instance (its start-up synchronisation) is seen here within that lifetime. Unknown client ids are never
/// cached. And successful client-secret checks are remembered for a few minutes. The check is a
/// deliberately slow PBKDF2 hash (about 2 ms, more than a whole refresh costs now); a confidential client presents the same secret on
/// every request. Only successes are cached, keyed by an HMAC of the presented secret and the stored hash under a key
/// drawn at random for this process (see <see cref="SecretCheckCache"/>): a wrong secret is always hashed in full, and a
/// secret changed in configuration (a new stored hash) misses the cache at once. The secret itself is never kept.
/// </summary>
public sealed class CachingApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    SecretCheckCache verified,
    ApplicationCache applications)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>(cache, logger, options, store)
{
    /// <summary>This request's copies (a request looks its client up several times: one copy, one identity).</summary>
    private readonly Dictionary<string, OpenIddictEntityFrameworkCoreApplication> copies = new(StringComparer.Ordinal);

    public override async ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        if (copies.TryGetValue(identifier, out var application))
        {
            return application;
        }

        if (applications.TryGet(identifier) is { } snapshot)
        {
            application = ApplicationCache.Copy(snapshot);
        }
        else if ((application = await base.FindByClientIdAsync(identifier, cancellationToken)) is not null)
        {
            applications.Add(identifier, ApplicationCache.Copy(application));
        }

        if (application is not null)
        {
            copies[identifier] = application;
        }

        return application;
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken = default)
    {
        applications.Clear();
        await base.UpdateAsync(application, cancellationToken);
        applications.Clear();
        copies.Clear();
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken = default)
    {
        applications.Clear();
        await base.DeleteAsync(application, cancellationToken);
        applications.Clear();
        copies.Clear();
    }

    protected override async ValueTask<bool> ValidateClientSecretAsync(string secret, string comparand, CancellationToken cancellationToken = default)
    {
        using var activity = Telemetry.IdentityHostTelemetry.ActivitySource.StartActivity("identityhost.client_authentication");
        var key = verified.Key(secret, comparand);
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

/// <summary>
/// Successful client-secret checks, bounded in size and age, keyed by HMAC-SHA256(secret and stored hash) under a random
/// 32-byte key of this process that is never stored. A plain hash would let anyone holding a memory dump test guessed
/// secrets at SHA-256 speed instead of through the deliberately slow PBKDF2 of the stored hash.
/// </summary>
public sealed class SecretCheckCache : IDisposable
{
    /// <summary>How long a successful check is reused. A secret removed from the store stops working within this time at most.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly MemoryCache entries = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private readonly byte[] keyOfThisProcess = RandomNumberGenerator.GetBytes(32);

    /// <summary>The cache key of a check: it differs from one process (one cache) to the next for the same input.</summary>
    internal string Key(string secret, string comparand) =>
        Convert.ToBase64String(HMACSHA256.HashData(keyOfThisProcess, Encoding.UTF8.GetBytes(secret + "\n" + comparand)));

    public bool Contains(string key) => entries.TryGetValue(key, out _);

    public void Add(string key) =>
        entries.Set(key, true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime });

    public void Dispose() => entries.Dispose();
}

/// <summary>
/// Applications by client id, shared by all requests of this instance; they expire after <see cref="Lifetime"/>. The
/// cached entities are never handed out: each request gets its own <see cref="Copy"/>, which it may change or write
/// (<see cref="IdentityHost.Storage.Stores.ApplicationStore"/> lets EF Core write such a copy).
/// </summary>
public sealed class ApplicationCache : IDisposable
{
    /// <summary>How long an application read from the database is reused: the bound on seeing another instance's change.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private readonly MemoryCache entries = new(new MemoryCacheOptions { SizeLimit = 1_000 });

    public OpenIddictEntityFrameworkCoreApplication? TryGet(string clientId) =>
        entries.TryGetValue(clientId, out OpenIddictEntityFrameworkCoreApplication? application) ? application : null;

    public void Add(string clientId, OpenIddictEntityFrameworkCoreApplication application) =>
        entries.Set(clientId, application, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime });

    public void Clear() => entries.Clear();

    /// <summary>A detached copy of every stored column.</summary>
    public static OpenIddictEntityFrameworkCoreApplication Copy(OpenIddictEntityFrameworkCoreApplication source) => new()
    {
        Id = source.Id,
        ApplicationType = source.ApplicationType,
        ClientId = source.ClientId,
        ClientSecret = source.ClientSecret,
        ClientType = source.ClientType,
        ConcurrencyToken = source.ConcurrencyToken,
        ConsentType = source.ConsentType,
        DisplayName = source.DisplayName,
        DisplayNames = source.DisplayNames,
        JsonWebKeySet = source.JsonWebKeySet,
        Permissions = source.Permissions,
        PostLogoutRedirectUris = source.PostLogoutRedirectUris,
        Properties = source.Properties,
        RedirectUris = source.RedirectUris,
        Requirements = source.Requirements,
        Settings = source.Settings,
    };

    public void Dispose() => entries.Dispose();
}
