using System.Text.Json;

namespace IdentityHost.Bench;

/// <summary>The runs of one mode at one concurrency, reduced to medians (RSS to the worst run, counts to sums).</summary>
internal sealed record Aggregate(
    string Mode,
    int Concurrency,
    int Runs,
    double OkPerSecond,
    double P50,
    double P90,
    double P99,
    double Max,
    double? OkPerCpuSecond,
    double? ServerCores,
    double? PeakRssMb,
    double? OtherCores,
    long Errors,
    int? BrokenChains,
    IReadOnlyList<BenchResult> Results);

/// <summary>Result files written with <c>--json</c>, read back for the summary table and the chart.</summary>
internal static class ResultSet
{
    /// <summary>Loads the given files, and every <c>*.json</c> file directly inside the given folders.</summary>
    public static IReadOnlyList<Aggregate> Load(IEnumerable<string> inputs)
    {
        var files = inputs.SelectMany<string, string>(input => Directory.Exists(input)
                ? Directory.EnumerateFiles(input, "*.json").Order(StringComparer.Ordinal)
                : File.Exists(input) ? [input] : throw new ArgumentException($"No such file or folder: '{input}'."))
            .ToList();

        var results = new List<BenchResult>();
        foreach (var file in files)
        {
            try
            {
                if (JsonSerializer.Deserialize<BenchResult>(File.ReadAllText(file), BenchResult.Json) is { Tool: "IdentityHost.Bench" } result)
                {
                    results.Add(result);
                }
            }
            catch (JsonException)
            {
                Console.Error.WriteLine($"skipped {file}: not an IdentityHost.Bench result");
            }
        }

        return results.Count == 0
            ? throw new ArgumentException("No IdentityHost.Bench results found in: " + string.Join(", ", inputs))
            : results.GroupBy(r => (r.Mode, r.Concurrency))
                .OrderBy(g => g.Key.Mode, StringComparer.Ordinal).ThenBy(g => g.Key.Concurrency)
                .Select(g => Reduce(g.Key.Mode, g.Key.Concurrency, g.ToList()))
                .ToList();
    }

    private static Aggregate Reduce(string mode, int concurrency, List<BenchResult> runs)
    {
        var servers = runs.Where(r => r.Server is not null).Select(r => r.Server!).ToList();
        var chains = runs.Where(r => r.Chains is not null).Select(r => r.Chains!).ToList();
        return new Aggregate(
            mode,
            concurrency,
            runs.Count,
            Median(runs.Select(r => r.OkPerSecond)),
            Median(runs.Select(r => r.LatencyMs.P50)),
            Median(runs.Select(r => r.LatencyMs.P90)),
            Median(runs.Select(r => r.LatencyMs.P99)),
            Median(runs.Select(r => r.LatencyMs.Max)),
            servers.Count == 0 ? null : Median(servers.Select(s => s.OkPerCpuSecond)),
            servers.Count == 0 ? null : Median(servers.Select(s => s.CpuCores)),
            servers.Count == 0 ? null : servers.Max(s => s.PeakRssMb),
            runs.Any(r => r.Machine is not null) ? Median(runs.Where(r => r.Machine is not null).Select(r => r.Machine!.OtherCores)) : null,
            runs.Sum(r => r.ErrorCount),
            chains.Count == 0 ? null : chains.Sum(c => c.Broken),
            runs);
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
