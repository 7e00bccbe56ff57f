namespace IdentityHost.Testing;

public static class Race
{
    /// <summary>
    /// Sends <paramref name="count"/> requests at once. Microsoft.Data.Sqlite completes "async" calls synchronously and
    /// the in-memory server runs a request on the caller's thread, so each request gets a thread of its own and all are
    /// released together.
    /// </summary>
    public static async Task<T[]> RunAsync<T>(int count, Func<Task<T>> send)
    {
        using var gate = new ManualResetEventSlim();
        var requests = Enumerable.Range(0, count).Select(_ => Task.Factory.StartNew(() =>
        {
            gate.Wait();
            return send().GetAwaiter().GetResult();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToList();
        gate.Set();
        return await Task.WhenAll(requests);
    }
}
