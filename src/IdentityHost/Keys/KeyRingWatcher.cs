using IdentityHost.Configuration;
using IdentityHost.Hosting;
using Microsoft.Extensions.Options;

namespace IdentityHost.Keys;

/// <summary>
/// Re-reads the keys folder every <c>IdentityHost:Keys:ReloadInterval</c> (default 1 minute): instances sharing a
/// <c>KeysPath</c> start signing with a key rotated on another instance, and publish it, within that interval. A
/// broken file found on the way is logged and the current keys stay in use.
/// </summary>
public sealed class KeyRingWatcher(KeyRing keys, IOptions<IdentityHostOptions> options, TimeProvider time, ILogger<KeyRingWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Keys.ReloadInterval, time);
        while (await timer.WaitForNextTickOrStopAsync(stoppingToken))
        {
            try
            {
                if (keys.Reload())
                {
                    logger.LogInformation("The keys in {KeysPath} changed; new tokens use the current active key", keys.Directory);
                }
            }
            catch (InvalidOperationException ex)
            {
                logger.LogError(ex, "Reloading the keys from {KeysPath} failed; the keys loaded earlier stay in use", keys.Directory);
            }
        }
    }
}
