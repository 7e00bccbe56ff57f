using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenIddict.Abstractions;

namespace IdentityHost.Engine;

/// <summary>
/// OpenIddict's entity caches, switched off (<c>DisableEntityCaching</c>) and replaced by caches that hold nothing.
/// OpenIddict's caches live for one request (its managers are scoped) and each builds a <c>MemoryCache</c>, a signal
/// dictionary and change-token registrations when it is created, four per token request (applications, authorizations,
/// tokens, scopes): about 4 % of what a refresh allocated. Within one request they saved nothing measurable (switching
/// them off alone measured ×0.997, bench/README.md "Issue 11"), and the application manager keeps its own cache across
/// requests (<see cref="CachingApplicationManager"/>). A cache that never hits is always correct: every look-up goes to
/// the store, as OpenIddict's managers do anyway with caching disabled. See ARCHITECTURE.md, "Engine replacements";
/// guarded by EngineGuards/EntityCacheGuardTests.
/// </summary>
internal static class NoEntityCaches
{
    public static IServiceCollection AddNoEntityCaches(this IServiceCollection services)
    {
        services.Replace(ServiceDescriptor.Singleton(typeof(IOpenIddictApplicationCache<>), typeof(NoApplicationCache<>)));
        services.Replace(ServiceDescriptor.Singleton(typeof(IOpenIddictAuthorizationCache<>), typeof(NoAuthorizationCache<>)));
        services.Replace(ServiceDescriptor.Singleton(typeof(IOpenIddictScopeCache<>), typeof(NoScopeCache<>)));
        services.Replace(ServiceDescriptor.Singleton(typeof(IOpenIddictTokenCache<>), typeof(NoTokenCache<>)));
        return services;
    }

    internal static async IAsyncEnumerable<T> None<T>([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await Task.CompletedTask;
        yield break;
    }
}

internal sealed class NoApplicationCache<TApplication> : IOpenIddictApplicationCache<TApplication> where TApplication : class
{
    public ValueTask AddAsync(TApplication application, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    public ValueTask<TApplication?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken) => ValueTask.FromResult<TApplication?>(null);
    public ValueTask<TApplication?> FindByIdAsync(string identifier, CancellationToken cancellationToken) => ValueTask.FromResult<TApplication?>(null);
    public IAsyncEnumerable<TApplication> FindByPostLogoutRedirectUriAsync(string uri, CancellationToken cancellationToken) => NoEntityCaches.None<TApplication>(cancellationToken);
    public IAsyncEnumerable<TApplication> FindByRedirectUriAsync(string uri, CancellationToken cancellationToken) => NoEntityCaches.None<TApplication>(cancellationToken);
    public ValueTask RemoveAsync(TApplication application, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

internal sealed class NoAuthorizationCache<TAuthorization> : IOpenIddictAuthorizationCache<TAuthorization> where TAuthorization : class
{
    public ValueTask AddAsync(TAuthorization authorization, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    public IAsyncEnumerable<TAuthorization> FindAsync(string? subject, string? client, string? status, string? type, ImmutableArray<string>? scopes, CancellationToken cancellationToken) => NoEntityCaches.None<TAuthorization>(cancellationToken);
    public IAsyncEnumerable<TAuthorization> FindByApplicationIdAsync(string identifier, CancellationToken cancellationToken) => NoEntityCaches.None<TAuthorization>(cancellationToken);
    public ValueTask<TAuthorization?> FindByIdAsync(string identifier, CancellationToken cancellationToken) => ValueTask.FromResult<TAuthorization?>(null);
    public IAsyncEnumerable<TAuthorization> FindBySubjectAsync(string subject, CancellationToken cancellationToken) => NoEntityCaches.None<TAuthorization>(cancellationToken);
    public ValueTask RemoveAsync(TAuthorization authorization, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

internal sealed class NoScopeCache<TScope> : IOpenIddictScopeCache<TScope> where TScope : class
{
    public ValueTask AddAsync(TScope scope, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    public ValueTask<TScope?> FindByIdAsync(string identifier, CancellationToken cancellationToken) => ValueTask.FromResult<TScope?>(null);
    public ValueTask<TScope?> FindByNameAsync(string name, CancellationToken cancellationToken) => ValueTask.FromResult<TScope?>(null);
    public IAsyncEnumerable<TScope> FindByNamesAsync(ImmutableArray<string> names, CancellationToken cancellationToken) => NoEntityCaches.None<TScope>(cancellationToken);
    public IAsyncEnumerable<TScope> FindByResourceAsync(string resource, CancellationToken cancellationToken) => NoEntityCaches.None<TScope>(cancellationToken);
    public ValueTask RemoveAsync(TScope scope, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

internal sealed class NoTokenCache<TToken> : IOpenIddictTokenCache<TToken> where TToken : class
{
    public ValueTask AddAsync(TToken token, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    public IAsyncEnumerable<TToken> FindAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken) => NoEntityCaches.None<TToken>(cancellationToken);
    public IAsyncEnumerable<TToken> FindByApplicationIdAsync(string identifier, CancellationToken cancellationToken) => NoEntityCaches.None<TToken>(cancellationToken);
    public IAsyncEnumerable<TToken> FindByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken) => NoEntityCaches.None<TToken>(cancellationToken);
    public ValueTask<TToken?> FindByIdAsync(string identifier, CancellationToken cancellationToken) => ValueTask.FromResult<TToken?>(null);
    public ValueTask<TToken?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken) => ValueTask.FromResult<TToken?>(null);
    public IAsyncEnumerable<TToken> FindBySubjectAsync(string subject, CancellationToken cancellationToken) => NoEntityCaches.None<TToken>(cancellationToken);
    public ValueTask RemoveAsync(TToken token, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
