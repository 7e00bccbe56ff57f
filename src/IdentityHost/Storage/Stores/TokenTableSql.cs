using System.Collections.Concurrent;
using System.Text;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;

namespace IdentityHost.Storage.Stores;

/// <summary>
/// The SQL of <see cref="TokenStore"/>: one text for SQLite and PostgreSQL (quoted identifiers, <c>@name</c>
/// parameters), and how a token's values are bound to it. An UPDATE sets only the columns that changed since the row
/// was read or written, so the database leaves alone every index none of them is part of (a redemption changes the
/// status and the redemption date, not the reference id, the family or the client).
/// </summary>
internal static class TokenTableSql
{
    private const string Columns =
        "\"Id\", \"ApplicationId\", \"AuthorizationId\", \"ConcurrencyToken\", \"CreationDate\", \"ExpirationDate\", " +
        "\"Payload\", \"Properties\", \"RedemptionDate\", \"ReferenceId\", \"Status\", \"Subject\", \"Type\"";

    /// <summary>Every column this SQL reads and writes (checked against the EF Core model by the upgrade guards).</summary>
    internal static IReadOnlyList<string> ColumnNames { get; } = PreparedSql.Names(Columns);

    public const string SelectById = "SELECT " + Columns + " FROM \"OpenIddictTokens\" WHERE \"Id\" = @id";
    public const string SelectByReferenceId = "SELECT " + Columns + " FROM \"OpenIddictTokens\" WHERE \"ReferenceId\" = @reference";

    public const string Insert = "INSERT INTO \"OpenIddictTokens\" (" + Columns + ") VALUES " +
        "(@id, @application, @authorization, @stamp, @created, @expires, @payload, @properties, @redeemed, @reference, @status, @subject, @type)";

    public const string Delete = "DELETE FROM \"OpenIddictTokens\" WHERE \"Id\" = @id AND \"ConcurrencyToken\" = @previous";

    /// <summary>The columns besides the id and the concurrency token, with their parameters, in the order of <see cref="Values"/>.</summary>
    private static readonly (string Column, string Parameter)[] Changeable =
    [
        ("ApplicationId", "@application"), ("AuthorizationId", "@authorization"), ("CreationDate", "@created"),
        ("ExpirationDate", "@expires"), ("Payload", "@payload"), ("Properties", "@properties"),
        ("RedemptionDate", "@redeemed"), ("ReferenceId", "@reference"), ("Status", "@status"), ("Subject", "@subject"),
        ("Type", "@type"),
    ];

    public const int StatusColumn = 8;

    /// <summary>Every column of <see cref="Values"/> (an INSERT).</summary>
    public const int All = (1 << 11) - 1;

    /// <summary>UPDATE statements by set of changed columns (a handful in practice: redeem, revoke, extend).</summary>
    private static readonly ConcurrentDictionary<int, string> Updates = new();

    /// <summary>
    /// A new token row's id, time-ordered (UUIDv7): new rows land at the end of the primary-key index instead of on a
    /// random page of it, which a write would otherwise have to read and rewrite (measured: +4 % refreshes per
    /// CPU-second). Token ids are not secrets (the handle is); the embedded time is the token's own creation time.
    /// </summary>
    public static string NewId() => Guid.CreateVersion7().ToString();

    public static object?[] Values(Token token, string? applicationId, string? authorizationId) =>
    [
        applicationId, authorizationId, token.CreationDate, token.ExpirationDate, token.Payload, token.Properties,
        token.RedemptionDate, token.ReferenceId, token.Status, token.Subject, token.Type,
    ];

    /// <summary>The columns whose value differs from the stored one, as a bit set (all of them when nothing is stored).</summary>
    public static int Changed(object?[] current, object?[]? stored)
    {
        var changed = 0;
        for (var column = 0; column < current.Length; column++)
        {
            if (stored is null || !Equals(current[column], stored[column]))
            {
                changed |= 1 << column;
            }
        }

        return changed;
    }

    public static PreparedSql Bind(PreparedSql sql, object?[] values, int columns)
    {
        for (var column = 0; column < values.Length; column++)
        {
            if ((columns & (1 << column)) != 0)
            {
                sql.With(Changeable[column].Parameter, values[column]);
            }
        }

        return sql;
    }

    /// <summary>Sets the new concurrency token and the changed columns of the row with the id, concurrency token and status it had.</summary>
    public static string Update(int changed) => Updates.GetOrAdd(changed, static changed =>
    {
        var sql = new StringBuilder("UPDATE \"OpenIddictTokens\" SET \"ConcurrencyToken\" = @stamp");
        for (var column = 0; column < Changeable.Length; column++)
        {
            if ((changed & (1 << column)) != 0)
            {
                sql.Append(", \"").Append(Changeable[column].Column).Append("\" = ").Append(Changeable[column].Parameter);
            }
        }

        // The status it had when read: a bulk revocation meanwhile (which keeps the concurrency token) also fails it.
        return sql.Append(" WHERE \"Id\" = @id AND \"ConcurrencyToken\" = @previous AND \"Status\" = @stored").ToString();
    });
}
