using System.Collections.Immutable;
using OpenIddict.Abstractions;

namespace IdentityHost.Engine;

/// <summary>
/// Stands in for OpenIddict's per-request entity caches, which IdentityHost turns off
/// (<c>DisableEntityCaching</c>, see <c>TokenServerExtensions</c>). Each of OpenIddict's caches builds a
/// <c>MemoryCache</c> of its own in every request scope, and each cached entity costs an entry, a cancellation token
/// source and a change token: about 5 % of the bytes a refresh allocated, for nothing, since within a request the lean
/// stores already hand back the entity they read (TokenStore, AuthorizationStore) and applications are cached
/// across requests (CachingApplicationManager). With caching off OpenIddict's managers never call a cache; one
/// singleton serves every entity type, and should anything call it anyway it fails loudly instead of answering
/// "not found".
/// <para>
/// Without the caches, the managers' listings (<c>FindBySubjectAsync</c> and the like) stream straight from the
/// database. Code that writes while it walks one must list first and write after (see <c>EndSessionEndpoint</c>):
/// PostgreSQL runs one command at a time per connection.
/// </para>
/// </summary>
internal sealed class DisabledEntityCache<TEntity> :
    IOpenIddictApplicationCache<TEntity>, IOpenIddictAuthorizationCache<TEntity>, IOpenIddictScopeCache<TEntity>, IOpenIddictTokenCache<TEntity>
    where TEntity : class
{
    public ValueTask AddAsync(TEntity entity, CancellationToken cancellationToken) => throw Disabled();

    public ValueTask RemoveAsync(TEntity entity, CancellationToken cancellationToken) => throw Disabled();

    public ValueTask<TEntity?> FindByIdAsync(string identifier, CancellationToken cancellationToken) => throw Disabled();

    public ValueTask<TEntity?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken) => throw Disabled();

    public ValueTask<TEntity?> FindByNameAsync(string name, CancellationToken cancellationToken) => throw Disabled();

    public ValueTask<TEntity?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken) => throw Disabled();

    public IAsyncEnumerable<TEntity> FindByPostLogoutRedirectUriAsync(string uri, CancellationToken cancellationToken) => throw Disabled();

    public IAsyncEnumerable<TEntity> FindByRedirectUriAsync(string uri, CancellationToken cancellationToken) => throw Disabled();

    public IAsyncEnumerable<TEntity> FindAsync(string? subject, string? client, string? status, string? type,
        ImmutableArray<string>? scopes, CancellationToken cancellationToken) => throw Disabled();

    public IAsyncEnumerable<TEntity> FindAsync(string? subject, string? client, string? status, string? type,
        CancellationToken cancellationToken) => throw Disabled();

    public IAsyncEnumerable<TEntity> FindByApplicationIdAsync(string identifier, CancellationToken cancellationToken) => throw Disabled();

    public IAsyncEnumerable<TEntity> FindByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken) => throw Disabled();

    public IAsyncEnumerable<TEntity> FindBySubjectAsync(string subject, CancellationToken cancellationToken) => throw Disabled();

    public IAsyncEnumerable<TEntity> FindByNamesAsync(ImmutableArray<string> names, CancellationToken cancellationToken) => throw Disabled();

    public IAsyncEnumerable<TEntity> FindByResourceAsync(string resource, CancellationToken cancellationToken) => throw Disabled();

    private static InvalidOperationException Disabled() => new(
        "OpenIddict's entity caching is disabled in IdentityHost; nothing may use its per-request caches (DisabledEntityCache).");
}
