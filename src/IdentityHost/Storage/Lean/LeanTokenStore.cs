using System.Collections.Concurrent;
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

namespace IdentityHost.Storage.Lean;

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
public sealed class LeanTokenStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options)
    : OpenIddictEntityFrameworkCoreTokenStore<Token, Application, Authorization, string>(cache, context, options)
{
    private const string Columns =
        "\"Id\", \"ApplicationId\", \"AuthorizationId\", \"ConcurrencyToken\", \"CreationDate\", \"ExpirationDate\", " +
        "\"Payload\", \"Properties\", \"RedemptionDate\", \"ReferenceId\", \"Status\", \"Subject\", \"Type\"";

    private const string SelectById = "SELECT " + Columns + " FROM \"OpenIddictTokens\" WHERE \"Id\" = @id";
    private const string SelectByReferenceId = "SELECT " + Columns + " FROM \"OpenIddictTokens\" WHERE \"ReferenceId\" = @reference";

    private const string Insert = "INSERT INTO \"OpenIddictTokens\" (" + Columns + ") VALUES " +
        "(@id, @application, @authorization, @stamp, @created, @expires, @payload, @properties, @redeemed, @reference, @status, @subject, @type)";

    /// <summary>The columns a write may change, with their parameters; an UPDATE sets only those that changed.</summary>
    private static readonly (string Column, string Parameter)[] Changeable =
    [
        ("ApplicationId", "@application"), ("AuthorizationId", "@authorization"), ("CreationDate", "@created"),
        ("ExpirationDate", "@expires"), ("Payload", "@payload"), ("Properties", "@properties"),
        ("RedemptionDate", "@redeemed"), ("ReferenceId", "@reference"), ("Status", "@status"), ("Subject", "@subject"),
        ("Type", "@type"),
    ];

    private const int StatusColumn = 8;

    /// <summary>UPDATE statements by set of changed columns (a handful in practice: redeem, revoke, extend).</summary>
    private static readonly ConcurrentDictionary<int, string> Updates = new();

    private const string Delete = "DELETE FROM \"OpenIddictTokens\" WHERE \"Id\" = @id AND \"ConcurrencyToken\" = @previous";

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
        public string? StoredStatus => (string?)Stored?[StatusColumn];

        /// <summary>The row's values as last read or written (see <see cref="Changeable"/>); null before it is created.</summary>
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
               await ReadAsync(SelectById, "@id", identifier, cancellationToken);
    }

    public override async ValueTask<Token?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return Own(token => token.ReferenceId == identifier) ??
               await TrackedAsync(token => token.ReferenceId == identifier, cancellationToken) ??
               await ReadAsync(SelectByReferenceId, "@reference", identifier, cancellationToken);
    }

    public override async ValueTask CreateAsync(Token token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (!links.TryGetValue(token, out var ids))
        {
            // Built outside this store (not through InstantiateAsync): its navigations say where it belongs.
            ids = new Links { ApplicationId = token.Application?.Id, AuthorizationId = token.Authorization?.Id };
        }

        token.Id ??= Guid.CreateVersion7().ToString();
        token.ConcurrencyToken ??= Guid.NewGuid().ToString();
        var db = await Context.GetDbContextAsync(cancellationToken);
        await using (var sql = await LeanSql.OpenAsync(db, Insert, cancellationToken))
        {
            await Bind(sql, token, ids, token.ConcurrencyToken).Command.ExecuteNonQueryAsync(cancellationToken);
        }

        ids.Stored = Values(token, ids);
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

        // Only the columns that changed are written: SQLite then leaves alone every index none of them is part of
        // (a redemption changes the status and redemption date, not the reference id, family or client).
        var current = Values(token, ids);
        var changed = 0;
        for (var column = 0; column < current.Length; column++)
        {
            if (ids.Stored is null || !Equals(current[column], ids.Stored[column]))
            {
                changed |= 1 << column;
            }
        }

        var stamp = Guid.NewGuid().ToString();
        var db = await Context.GetDbContextAsync(cancellationToken);
        await using (var sql = await LeanSql.OpenAsync(db, Updates.GetOrAdd(changed, UpdateStatement), cancellationToken))
        {
            sql.With("@id", token.Id).With("@stamp", stamp).With("@previous", token.ConcurrencyToken).With("@stored", ids.StoredStatus);
            for (var column = 0; column < current.Length; column++)
            {
                if ((changed & (1 << column)) != 0)
                {
                    sql.With(Changeable[column].Parameter, current[column]);
                }
            }

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
        await using (var sql = await LeanSql.OpenAsync(db, Delete, cancellationToken))
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
        var db = await Context.GetDbContextAsync(cancellationToken);
        await using var sql = await LeanSql.OpenAsync(db, query, cancellationToken);
        await using var reader = await sql.With(name, value).Command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var token = new Token
        {
            Id = reader.GetString(0),
            ConcurrencyToken = LeanSql.String(reader, 3),
            CreationDate = LeanSql.Date(reader, 4),
            ExpirationDate = LeanSql.Date(reader, 5),
            Payload = LeanSql.String(reader, 6),
            Properties = LeanSql.String(reader, 7),
            RedemptionDate = LeanSql.Date(reader, 8),
            ReferenceId = LeanSql.String(reader, 9),
            Status = LeanSql.String(reader, 10),
            Subject = LeanSql.String(reader, 11),
            Type = LeanSql.String(reader, 12),
        };
        var ids = new Links { ApplicationId = LeanSql.String(reader, 1), AuthorizationId = LeanSql.String(reader, 2) };
        ids.Stored = Values(token, ids);
        links.Add(token, ids);
        return token;
    }

    private static LeanSql Bind(LeanSql sql, Token token, Links ids, string stamp) => sql
        .With("@id", token.Id)
        .With("@application", ids.ApplicationId)
        .With("@authorization", ids.AuthorizationId)
        .With("@stamp", stamp)
        .With("@created", token.CreationDate)
        .With("@expires", token.ExpirationDate)
        .With("@payload", token.Payload)
        .With("@properties", token.Properties)
        .With("@redeemed", token.RedemptionDate)
        .With("@reference", token.ReferenceId)
        .With("@status", token.Status)
        .With("@subject", token.Subject)
        .With("@type", token.Type);

    private static object?[] Values(Token token, Links ids) =>
    [
        ids.ApplicationId, ids.AuthorizationId, token.CreationDate, token.ExpirationDate, token.Payload, token.Properties,
        token.RedemptionDate, token.ReferenceId, token.Status, token.Subject, token.Type,
    ];

    private static string UpdateStatement(int changed)
    {
        var sql = new System.Text.StringBuilder("UPDATE \"OpenIddictTokens\" SET \"ConcurrencyToken\" = @stamp");
        for (var column = 0; column < Changeable.Length; column++)
        {
            if ((changed & (1 << column)) != 0)
            {
                sql.Append(", \"").Append(Changeable[column].Column).Append("\" = ").Append(Changeable[column].Parameter);
            }
        }

        // The status it had when read: a bulk revocation meanwhile (which keeps the concurrency token) also fails it.
        return sql.Append(" WHERE \"Id\" = @id AND \"ConcurrencyToken\" = @previous AND \"Status\" = @stored").ToString();
    }
}
