namespace IdentityHost.Hosting;

public static class PeriodicTimerExtensions
{
    /// <summary>
    /// <see cref="PeriodicTimer.WaitForNextTickAsync"/> for a background service's loop: false, not an
    /// <see cref="OperationCanceledException"/>, once <paramref name="stoppingToken"/> fires. When start-up fails (a
    /// port already in use) the host is disposed without being stopped, and it then logs a background service ending
    /// with that exception as a fault, with its stack trace, under the one line that says what went wrong.
    /// </summary>
    public static async ValueTask<bool> WaitForNextTickOrStopAsync(this PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
