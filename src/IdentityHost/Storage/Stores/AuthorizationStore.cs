using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore;
using Application = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication;
using Authorization = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreAuthorization;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;

namespace IdentityHost.Storage.Stores;

/// <summary>
/// OpenIddict's EF Core authorization store with the one look-up of the refresh hot path (the token family, by id, to
/// check it is still valid) and the updates of what it read (revoking the family) in plain SQL; see
/// <see cref="TokenStore"/> for the rules. Everything else (creation at sign-in, listing, pruning) stays EF's.
/// </summary>
public sealed class AuthorizationStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options)
    : OpenIddictEntityFrameworkCoreAuthorizationStore<Authorization, Application, Token, string>(cache, context, options)
{
    private const string Columns =
        "\"Id\", \"ApplicationId\", \"ConcurrencyToken\", \"CreationDate\", \"Properties\", \"Scopes\", \"Status\", \"Subject\", \"Type\"";

    /// <summary>Every column this store's SQL reads and writes (checked against the EF Core model by the upgrade guards).</summary>
    internal static IReadOnlyList<string> ColumnNames { get; } = PreparedSql.Names(Columns);

    private const string SelectById = "SELECT " + Columns + " FROM \"OpenIddictAuthorizations\" WHERE \"Id\" = @id";

    private const string Update = "UPDATE \"OpenIddictAuthorizations\" SET \"ApplicationId\" = @application, " +
        "\"ConcurrencyToken\" = @stamp, \"CreationDate\" = @created, \"Properties\" = @properties, \"Scopes\" = @scopes, " +
        "\"Status\" = @status, \"Subject\" = @subject, \"Type\" = @type " +
        "WHERE \"Id\" = @id AND \"ConcurrencyToken\" = @previous AND \"Status\" = @stored";

    /// <summary>Authorizations this store read with SQL (per request scope), with what EF Core would track for them.</summary>
    private readonly Dictionary<Authorization, Row> own = new(ReferenceEqualityComparer.Instance);

    private sealed class Row
    {
        public string? ApplicationId;

        /// <summary>
        /// The status when read or last written: bulk revocations (sign-out everywhere) change it without a new
        /// concurrency token, and an update must not undo them (see <see cref="TokenStore"/>).
        /// </summary>
        public string? StoredStatus;
    }

    public override async ValueTask<Authorization?> FindByIdAsync(string identifier, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        foreach (var authorization in own.Keys)
        {
            if (authorization.Id == identifier)
            {
                return authorization;
            }
        }

        var db = await Context.GetDbContextAsync(cancellationToken);
        foreach (var entry in db.ChangeTracker.Entries<Authorization>())
        {
            if (entry.Entity.Id == identifier)
            {
                return entry.Entity;
            }
        }

        using var activity = Telemetry.IdentityHostTelemetry.ActivitySource.StartActivity("identityhost.authorization_store.read");
        await using var sql = await PreparedSql.OpenAsync(db, SelectById, cancellationToken);
        await using var reader = await sql.With("@id", identifier).Command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var read = new Authorization
        {
            Id = reader.GetString(0),
            ConcurrencyToken = PreparedSql.String(reader, 2),
            CreationDate = PreparedSql.Date(reader, 3),
            Properties = PreparedSql.String(reader, 4),
            Scopes = PreparedSql.String(reader, 5),
            Status = PreparedSql.String(reader, 6),
            Subject = PreparedSql.String(reader, 7),
            Type = PreparedSql.String(reader, 8),
        };
        own.Add(read, new Row { ApplicationId = PreparedSql.String(reader, 1), StoredStatus = read.Status });
        return read;
    }

    public override ValueTask<string?> GetApplicationIdAsync(Authorization authorization, CancellationToken cancellationToken) =>
        own.TryGetValue(authorization, out var row)
            ? ValueTask.FromResult(row.ApplicationId)
            : base.GetApplicationIdAsync(authorization, cancellationToken);

    public override ValueTask SetApplicationIdAsync(Authorization authorization, string? identifier, CancellationToken cancellationToken)
    {
        if (!own.TryGetValue(authorization, out var row))
        {
            return base.SetApplicationIdAsync(authorization, identifier, cancellationToken);
        }

        row.ApplicationId = string.IsNullOrEmpty(identifier) ? null : identifier;
        return ValueTask.CompletedTask;
    }

    public override async ValueTask UpdateAsync(Authorization authorization, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        if (!own.TryGetValue(authorization, out var row))
        {
            await base.UpdateAsync(authorization, cancellationToken);
            return;
        }

        var stamp = Guid.NewGuid().ToString();
        var db = await Context.GetDbContextAsync(cancellationToken);
        await using (var sql = await PreparedSql.OpenAsync(db, Update, cancellationToken))
        {
            await sql.With("@id", authorization.Id)
                .With("@application", row.ApplicationId)
                .With("@stamp", stamp)
                .With("@created", authorization.CreationDate)
                .With("@properties", authorization.Properties)
                .With("@scopes", authorization.Scopes)
                .With("@status", authorization.Status)
                .With("@subject", authorization.Subject)
                .With("@type", authorization.Type)
                .With("@previous", authorization.ConcurrencyToken)
                .With("@stored", row.StoredStatus)
                .ExecuteGuardedAsync("authorization", cancellationToken);
        }

        authorization.ConcurrencyToken = stamp;
        row.StoredStatus = authorization.Status;
    }

    public override async ValueTask DeleteAsync(Authorization authorization, CancellationToken cancellationToken)
    {
        // Rare (nothing on the hot path deletes): hand a row read with SQL over to EF Core, which also deletes its tokens.
        own.Remove(authorization);
        await base.DeleteAsync(authorization, cancellationToken);
    }
}
