using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using Application = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication;
using Authorization = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreAuthorization;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;

namespace IdentityHost.Storage.Stores;

/// <summary>
/// OpenIddict's EF Core token store with the operations of the token endpoint's hot path in plain SQL: find by id or
/// by reference id, create, update (with the same optimistic concurrency check on <c>ConcurrencyToken</c>) and delete.
/// A refresh costs one indexed SELECT, one UPDATE and the INSERTs of the new tokens, with none of EF Core's query
/// compilation, change tracking or navigation loading (which, measured, cost several times the SQL itself).
/// <para>
/// Entities this store reads or instantiates are never attached to EF Core; their application and authorization ids
/// are kept beside them (<see cref="links"/>) instead of as navigation properties, and every write to them is SQL.
/// Entities EF Core loaded (the bulk queries, listing, pruning and revocation, which stay EF's) go through the base
/// class unchanged, so the two never mix.
/// </para>
/// </summary>
public sealed class TokenStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options)
    : OpenIddictEntityFrameworkCoreTokenStore<Token, Application, Authorization, string>(cache, context, options)
{
    /// <summary>The entities of this store (per request scope), with their application and authorization ids.</summary>
    private readonly Dictionary<Token, Links> links = new(ReferenceEqualityComparer.Instance);

    private sealed class Links
    {
        public string? ApplicationId;
        public string? AuthorizationId;

        /// <summary>
        /// The status the row had when read or last written. OpenIddict's bulk revocations (a token family, a user, an
        /// application) change the status without a new concurrency token, so the update also requires the status
        /// to be unchanged: a token revoked meanwhile is never turned back into "redeemed" or "valid".
        /// </summary>
        public string? StoredStatus => (string?)Stored?[TokenTableSql.StatusColumn];

        /// <summary>The row's values as last read or written (<see cref="TokenTableSql.Values"/>); null before it is created.</summary>
        public object?[]? Stored;
    }

    public override ValueTask<Token> InstantiateAsync(CancellationToken cancellationToken)
    {
        var token = new Token();
        links.Add(token, new Links());
        return ValueTask.FromResult(token);
    }

    public override async ValueTask<Token?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return Own(token => token.Id == identifier) ??
               await TrackedAsync(token => token.Id == identifier, cancellationToken) ??
               await ReadAsync(TokenTableSql.SelectById, "@id", identifier, cancellationToken);
    }

    public override async ValueTask<Token?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return Own(token => token.ReferenceId == identifier) ??
               await TrackedAsync(token => token.ReferenceId == identifier, cancellationToken) ??
               await ReadAsync(TokenTableSql.SelectByReferenceId, "@reference", identifier, cancellationToken);
    }

    public override async ValueTask CreateAsync(Token token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (!links.TryGetValue(token, out var ids))
        {
            // Built outside this store (not through InstantiateAsync): its navigations say where it belongs.
            ids = new Links { ApplicationId = token.Application?.Id, AuthorizationId = token.Authorization?.Id };
        }

        token.Id ??= TokenTableSql.NewId();
        token.ConcurrencyToken ??= Guid.NewGuid().ToString();
        var db = await Context.GetDbContextAsync(cancellationToken);
        var values = TokenTableSql.Values(token, ids.ApplicationId, ids.AuthorizationId);
        await using (var sql = await PreparedSql.OpenAsync(db, TokenTableSql.Insert, cancellationToken))
        {
            await TokenTableSql.Bind(sql.With("@id", token.Id).With("@stamp", token.ConcurrencyToken), values, TokenTableSql.All)
                .Command.ExecuteNonQueryAsync(cancellationToken);
        }

        ids.Stored = values;
        links[token] = ids;
    }

    public override async ValueTask UpdateAsync(Token token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (!links.TryGetValue(token, out var ids))
        {
            await base.UpdateAsync(token, cancellationToken);
            return;
        }

        // Only the columns that changed are written (TokenTableSql).
        var current = TokenTableSql.Values(token, ids.ApplicationId, ids.AuthorizationId);
        var changed = TokenTableSql.Changed(current, ids.Stored);
        var stamp = Guid.NewGuid().ToString();
        var db = await Context.GetDbContextAsync(cancellationToken);
        await using (var sql = await PreparedSql.OpenAsync(db, TokenTableSql.Update(changed), cancellationToken))
        {
            TokenTableSql.Bind(sql.With("@id", token.Id).With("@stamp", stamp).With("@previous", token.ConcurrencyToken).With("@stored", ids.StoredStatus),
                current, changed);
            await sql.ExecuteGuardedAsync("token", cancellationToken);
        }

        token.ConcurrencyToken = stamp;
        ids.Stored = current;
    }

    public override async ValueTask DeleteAsync(Token token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (!links.ContainsKey(token))
        {
            await base.DeleteAsync(token, cancellationToken);
            return;
        }

        var db = await Context.GetDbContextAsync(cancellationToken);
        await using (var sql = await PreparedSql.OpenAsync(db, TokenTableSql.Delete, cancellationToken))
        {
            await sql.With("@id", token.Id).With("@previous", token.ConcurrencyToken).ExecuteGuardedAsync("token", cancellationToken);
        }

        links.Remove(token);
    }

    public override ValueTask<string?> GetApplicationIdAsync(Token token, CancellationToken cancellationToken) =>
        links.TryGetValue(token, out var ids) ? ValueTask.FromResult(ids.ApplicationId) : base.GetApplicationIdAsync(token, cancellationToken);

    public override ValueTask<string?> GetAuthorizationIdAsync(Token token, CancellationToken cancellationToken) =>
        links.TryGetValue(token, out var ids) ? ValueTask.FromResult(ids.AuthorizationId) : base.GetAuthorizationIdAsync(token, cancellationToken);

    public override ValueTask SetApplicationIdAsync(Token token, string? identifier, CancellationToken cancellationToken)
    {
        if (!links.TryGetValue(token, out var ids))
        {
            return base.SetApplicationIdAsync(token, identifier, cancellationToken);
        }

        // No look-up: the foreign key checks the id when the row is written.
        ids.ApplicationId = string.IsNullOrEmpty(identifier) ? null : identifier;
        return ValueTask.CompletedTask;
    }

    public override ValueTask SetAuthorizationIdAsync(Token token, string? identifier, CancellationToken cancellationToken)
    {
        if (!links.TryGetValue(token, out var ids))
        {
            return base.SetAuthorizationIdAsync(token, identifier, cancellationToken);
        }

        ids.AuthorizationId = string.IsNullOrEmpty(identifier) ? null : identifier;
        return ValueTask.CompletedTask;
    }

    private Token? Own(Func<Token, bool> match)
    {
        foreach (var token in links.Keys)
        {
            if (token.Id is not null && match(token))
            {
                return token;
            }
        }

        return null;
    }

    /// <summary>A token EF Core already tracks in this scope wins over a second copy read with SQL.</summary>
    private async ValueTask<Token?> TrackedAsync(Func<Token, bool> match, CancellationToken cancellationToken)
    {
        var db = await Context.GetDbContextAsync(cancellationToken);
        foreach (var entry in db.ChangeTracker.Entries<Token>())
        {
            if (match(entry.Entity))
            {
                return entry.Entity;
            }
        }

        return null;
    }

    private async ValueTask<Token?> ReadAsync(string query, string name, string value, CancellationToken cancellationToken)
    {
        using var activity = Telemetry.IdentityHostTelemetry.ActivitySource.StartActivity("identityhost.token_store.read");
        var db = await Context.GetDbContextAsync(cancellationToken);
        await using var sql = await PreparedSql.OpenAsync(db, query, cancellationToken);
        await using var reader = await sql.With(name, value).Command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var token = new Token
        {
            Id = reader.GetString(0),
            ConcurrencyToken = PreparedSql.String(reader, 3),
            CreationDate = PreparedSql.Date(reader, 4),
            ExpirationDate = PreparedSql.Date(reader, 5),
            Payload = PreparedSql.String(reader, 6),
            Properties = PreparedSql.String(reader, 7),
            RedemptionDate = PreparedSql.Date(reader, 8),
            ReferenceId = PreparedSql.String(reader, 9),
            Status = PreparedSql.String(reader, 10),
            Subject = PreparedSql.String(reader, 11),
            Type = PreparedSql.String(reader, 12),
        };
        var ids = new Links { ApplicationId = PreparedSql.String(reader, 1), AuthorizationId = PreparedSql.String(reader, 2) };
        ids.Stored = TokenTableSql.Values(token, ids.ApplicationId, ids.AuthorizationId);
        links.Add(token, ids);
        return token;
    }
}
