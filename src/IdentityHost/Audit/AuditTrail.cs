using System.Data.Common;
using System.Threading.Channels;
using IdentityHost.Storage;
using Microsoft.EntityFrameworkCore;

namespace IdentityHost.Audit;

/// <summary>
/// Writes audit rows without adding a transaction to the token endpoint. Frequent events (sign-ins, new families,
/// single token revocations) are <see cref="Enqueue">queued</see> in a bounded channel and inserted in batches, one
/// transaction per batch, by this background service; rare events that must not be lost (a replay, a family revoked,
/// an administrator's action, a key or client change) are <see cref="WriteNowAsync">written at once</see>: they cost
/// one insert on a request that is already writing a revocation. When the queue is full the oldest queued event is
/// dropped and counted, and the count is logged as a warning with the next batch. On shutdown the queue is flushed.
/// A failed write is logged as an error; the event's structured log line (<see cref="SecurityEvents"/>) stays the
/// record of it, and the request that raised it is not failed.
/// </summary>
public sealed class AuditTrail : BackgroundService
{
    /// <summary>Queued events at most; about 1 KB each at worst.</summary>
    public const int Capacity = 10_000;

    private const int BatchSize = 500;

    private readonly Channel<AuditEvent> queue;
    private readonly SemaphoreSlim writing = new(1, 1);
    private readonly IServiceScopeFactory scopes;
    private readonly ILogger<AuditTrail> logger;
    private long dropped;

    public AuditTrail(IServiceScopeFactory scopes, ILogger<AuditTrail> logger)
    {
        this.scopes = scopes;
        this.logger = logger;
        queue = Channel.CreateBounded<AuditEvent>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = false },
            _ => Interlocked.Increment(ref dropped));
    }

    /// <summary>Queues a frequent event for the next batch.</summary>
    public void Enqueue(AuditEvent row) => queue.Writer.TryWrite(row);

    /// <summary>Writes a rare event now, in a transaction of its own.</summary>
    public async Task WriteNowAsync(AuditEvent row, CancellationToken cancellationToken = default) =>
        await InsertAsync([row], cancellationToken);

    /// <summary>Writes every event queued so far; when it returns, they are in the table (tests, commands, shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (await WriteBatchAsync(cancellationToken) > 0)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(CancellationToken.None);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                // Not cancelled half-way: events taken off the queue are written even when the host is stopping.
                await WriteBatchAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync flushes what is left.
        }
    }

    /// <summary>Takes up to one batch off the queue and inserts it; returns how many were taken.</summary>
    private async Task<int> WriteBatchAsync(CancellationToken cancellationToken)
    {
        await writing.WaitAsync(cancellationToken);
        try
        {
            var batch = new List<AuditEvent>();
            while (batch.Count < BatchSize && queue.Reader.TryRead(out var row))
            {
                batch.Add(row);
            }

            if (Interlocked.Exchange(ref dropped, 0) is var lost and > 0)
            {
                logger.LogWarning("The audit queue was full: {DroppedCount} older audit event(s) were dropped (their log lines remain)", lost);
            }

            if (batch.Count > 0)
            {
                await InsertAsync(batch, cancellationToken);
            }

            return batch.Count;
        }
        finally
        {
            writing.Release();
        }
    }

    private async Task InsertAsync(List<AuditEvent> rows, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
            db.AuditEvents.AddRange(rows);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is DbException or DbUpdateException or TimeoutException or InvalidOperationException or ObjectDisposedException)
        {
            logger.LogError(exception, "Writing {AuditEventCount} audit event(s) failed; they are only in the log", rows.Count);
        }
    }
}
