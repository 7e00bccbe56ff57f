using IdentityHost.Configuration;
using IdentityHost.Dpop;
using IdentityHost.Hosting;
using IdentityHost.Storage;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;

namespace IdentityHost.Maintenance;

/// <summary>
/// Deletes dead rows on an interval: tokens that are expired, redeemed or revoked (or whose family is revoked) and
/// authorizations left without tokens, once they are older than <see cref="CleanupOptions.Retention"/>. OpenIddict's
/// stores delete in batches of a few hundred rows, each its own short transaction, so token requests are not blocked.
/// Spent tokens are kept for the retention period on purpose: while their row exists, a replay is recognised and
/// revokes the family; afterwards it is merely an unknown token.
/// </summary>
public sealed class TokenCleanup(
    IServiceScopeFactory scopes,
    IOptionsMonitor<IdentityHostOptions> options,
    TimeProvider time,
    ILogger<TokenCleanup> logger) : BackgroundService
{
    /// <summary>Prunes once; returns how many tokens and authorizations were deleted.</summary>
    public async Task<(long Tokens, long Authorizations)> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var threshold = time.GetUtcNow() - options.CurrentValue.Cleanup.Retention;
        await using var scope = scopes.CreateAsyncScope();
        var tokens = await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(threshold, cancellationToken);
        var authorizations = await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(threshold, cancellationToken);

        // Used DPoP proof ids can go as soon as their proofs are too old to be presented.
        var proofs = await DpopReplayCache.PruneAsync(scope.ServiceProvider.GetRequiredService<ApplicationDbContext>(), time.GetUtcNow(), cancellationToken);
        logger.LogInformation("Cleanup deleted {ProofCount} expired DPoP proof id(s)", proofs);

        // Audit rows are kept for IdentityHost:Audit:Retention (90 days by default).
        var audit = await Audit.AuditRetention.PruneAsync(scope.ServiceProvider.GetRequiredService<ApplicationDbContext>(), time.GetUtcNow(),
            scope.ServiceProvider.GetRequiredService<IOptions<AuditOptions>>().Value.Retention, cancellationToken);
        logger.LogInformation("Cleanup deleted {AuditEventCount} audit event(s) past their retention", audit);
        logger.LogInformation("Cleanup deleted {TokenCount} token(s) and {AuthorizationCount} authorization(s) dead since before {Threshold:u}",
            tokens, authorizations, threshold);
        return (tokens, authorizations);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.CurrentValue.Cleanup;
        if (!settings.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(settings.Interval, time);
        while (await timer.WaitForNextTickOrStopAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Token cleanup failed; it will run again in {Interval}", settings.Interval);
            }
        }
    }
}
