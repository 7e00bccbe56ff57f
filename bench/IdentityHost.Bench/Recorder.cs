using System.Diagnostics;

namespace IdentityHost.Bench;

/// <summary>
/// The measured window in <see cref="Stopwatch"/> ticks. A request belongs to it when it <em>completes</em> inside it,
/// so ok/s = completions in the window / window length, whatever the concurrency.
/// </summary>
internal readonly record struct Window(long Start, long End)
{
    public static Window After(TimeSpan warmup, TimeSpan duration)
    {
        var start = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        return new Window(start, start + (long)(duration.TotalSeconds * Stopwatch.Frequency));
    }

    public bool Contains(long timestamp) => timestamp >= Start && timestamp < End;

    public bool IsOver => Stopwatch.GetTimestamp() >= End;

    public TimeSpan UntilStart => Remaining(Start);

    public TimeSpan UntilEnd => Remaining(End);

    private static TimeSpan Remaining(long timestamp) =>
        TimeSpan.FromSeconds(Math.Max(0, timestamp - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
}

/// <summary>A request slower than <c>--slow</c>: when it was sent (UTC) and how long it took.</summary>
internal readonly record struct SlowRequest(DateTime StartedUtc, double Ms);

/// <summary>One worker's tally; workers never share one, and they are merged after the run.</summary>
internal sealed class Recorder(Window window, double? slowMs = null)
{
    private readonly List<double> latencies = new(1024);
    private readonly List<SlowRequest> slow = [];

    public long Ok { get; private set; }

    public SortedDictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, long> ErrorsOutsideWindow { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<double> Latencies => latencies;

    /// <summary>The requests of the window slower than <c>--slow</c>, if it was given.</summary>
    public IReadOnlyList<SlowRequest> Slow => slow;

    public void Success(long started, long completed)
    {
        if (window.Contains(completed))
        {
            Ok++;
            var ms = (completed - started) * 1000.0 / Stopwatch.Frequency;
            latencies.Add(ms);
            if (ms > slowMs)
            {
                slow.Add(new SlowRequest(DateTime.UtcNow - Stopwatch.GetElapsedTime(started), ms));
            }
        }
    }

    public void Failure(string key, long completed) => Count(window.Contains(completed) ? Errors : ErrorsOutsideWindow, key);

    /// <summary>A failure that is not part of the load itself (re-seeding, verification): always outside the window.</summary>
    public void SideFailure(string key) => Count(ErrorsOutsideWindow, key);

    public static LatencySummary Summarise(IEnumerable<Recorder> recorders)
    {
        var all = recorders.SelectMany(r => r.latencies).ToArray();
        if (all.Length == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0);
        }

        Array.Sort(all);

        // Nearest rank: the smallest sample with at least q of all samples at or below it.
        double Percentile(double q) => all[Math.Clamp((int)Math.Ceiling(q * all.Length) - 1, 0, all.Length - 1)];
        return new LatencySummary(all.Length, all.Average(), Percentile(0.50), Percentile(0.90), Percentile(0.99), all[^1]);
    }

    public static SortedDictionary<string, long> Merge(IEnumerable<SortedDictionary<string, long>> tallies)
    {
        var merged = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, count) in tallies.SelectMany(t => t))
        {
            merged[key] = merged.GetValueOrDefault(key) + count;
        }

        return merged;
    }

    private static void Count(SortedDictionary<string, long> tally, string key) => tally[key] = tally.GetValueOrDefault(key) + 1;
}
