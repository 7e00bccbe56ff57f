using System.Security.Cryptography;
using System.Text;
using IdentityHost.Storage;
using IdentityHost.Storage.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHost.Dpop;

/// <summary>
/// Single use of a proof's <c>jti</c> across every instance: one indexed INSERT that does nothing when the row is already
/// there (SQLite and PostgreSQL both speak <c>ON CONFLICT DO NOTHING</c>), so no exception and no second round trip.
/// It runs as a prepared statement like the token store's SQL (<see cref="PreparedSql"/>): on SQLite on the shared
/// hot-path connection, queued behind the statement before it (<see cref="SqliteHotPath"/>). The database context is
/// only taken when a proof is checked: a Bearer request costs nothing.
/// </summary>
public sealed class DpopReplayCache(IServiceProvider services)
{
    private const string Insert = "INSERT INTO \"DpopProofUses\" (\"Id\", \"ExpiresAt\") VALUES (@id, @expires) ON CONFLICT DO NOTHING";

    /// <summary>True the first time <paramref name="jti"/> is seen; false for a replay.</summary>
    public async Task<bool> TryUseAsync(string jti, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var id = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(jti)));
        var expires = expiresAt.ToUnixTimeSeconds();
        var db = services.GetRequiredService<ApplicationDbContext>();
        await using var sql = await PreparedSql.OpenAsync(db, Insert, cancellationToken);
        return await sql.With("@id", id).With("@expires", expires).Command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Deletes the rows whose proofs can no longer be presented; returns how many.</summary>
    public static Task<int> PruneAsync(ApplicationDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var threshold = now.ToUnixTimeSeconds();
        return db.DpopProofUses.Where(use => use.ExpiresAt < threshold).ExecuteDeleteAsync(cancellationToken);
    }
}
