using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using SampleApi.Configuration;

namespace SampleApi.Hosting;

/// <summary>
/// Reuses introspection answers, active and inactive, for <see cref="SampleApiOptions.IntrospectionCacheDuration"/>
/// and never past the token's <c>exp</c>. Entries are keyed by the SHA-256 of the token, so the cache holds no token.
/// Expiry is judged by the injected <see cref="TimeProvider"/>; the memory cache's own expiry only frees memory.
/// </summary>
public sealed class IntrospectionCache(IOptions<SampleApiOptions> settings, TimeProvider time) : IDisposable
{
    /// <summary>Bounds memory when many distinct tokens arrive within one cache duration.</summary>
    private const int MaxEntries = 100_000;

    private readonly MemoryCache cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries });

    public IntrospectionResponse? Get(string token) =>
        settings.Value.IntrospectionCacheDuration > TimeSpan.Zero
        && cache.TryGetValue(Key(token), out Entry? entry)
        && entry!.ExpiresAt > time.GetUtcNow()
            ? entry.Response
            : null;

    public void Set(string token, IntrospectionResponse response)
    {
        var now = time.GetUtcNow();
        var expiresAt = now + settings.Value.IntrospectionCacheDuration;
        if (response.Active && response.ExpiresAt < expiresAt)
        {
            expiresAt = response.ExpiresAt.Value;
        }

        if (expiresAt <= now)
        {
            return;
        }

        cache.Set(Key(token), new Entry(response, expiresAt), new MemoryCacheEntryOptions
        {
            AbsoluteExpirationRelativeToNow = expiresAt - now,
            Size = 1,
        });
    }

    public void Dispose() => cache.Dispose();

    private static string Key(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private sealed record Entry(IntrospectionResponse Response, DateTimeOffset ExpiresAt);
}
