using IdentityHost.Storage;
using Microsoft.EntityFrameworkCore;

namespace IdentityHost.Audit;

/// <summary>
/// Deletes audit rows older than <c>IdentityHost:Audit:Retention</c>, run by the cleanup service. Deleted in batches of
/// <see cref="BatchSize"/> rows, each its own short statement, so a large backlog never holds the write lock for long.
/// </summary>
public static class AuditRetention
{
    public const int BatchSize = 1_000;

    public static async Task<long> PruneAsync(ApplicationDbContext db, DateTimeOffset now, TimeSpan retention, CancellationToken cancellationToken = default)
    {
        var threshold = (now - retention).UtcDateTime;
        long total = 0;
        int deleted;
        do
        {
            var ids = await db.AuditEvents.AsNoTracking().Where(row => row.Time < threshold).OrderBy(row => row.Id)
                .Select(row => row.Id).Take(BatchSize).ToListAsync(cancellationToken);
            deleted = ids.Count == 0 ? 0 : await db.AuditEvents.Where(row => ids.Contains(row.Id)).ExecuteDeleteAsync(cancellationToken);
            total += deleted;
        }
        while (deleted == BatchSize);

        return total;
    }
}
