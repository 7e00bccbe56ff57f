using System.Globalization;

namespace IdentityHost.Bench;

/// <summary>The markdown table that bench/run.sh prints and bench/README.md quotes.</summary>
internal static class Summary
{
    public static int Print(IReadOnlyList<Aggregate> aggregates)
    {
        Console.WriteLine("| mode | clients | runs | ok/s | p50 ms | p90 ms | p99 ms | max ms | ok per server CPU-s | server cores | peak RSS MB | other procs' cores | errors | broken chains |");
        Console.WriteLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var a in aggregates)
        {
            Console.WriteLine(string.Join(" | ",
                "| " + a.Mode,
                I(a.Concurrency),
                I(a.Runs),
                F(a.OkPerSecond, 0),
                F(a.P50, 2),
                F(a.P90, 2),
                F(a.P99, 2),
                F(a.Max, 1),
                F(a.OkPerCpuSecond, 0),
                F(a.ServerCores, 2),
                F(a.PeakRssMb, 0),
                F(a.OtherCores, 2),
                I(a.Errors),
                a.BrokenChains is { } broken ? I(broken) : "–") + " |");
        }

        Console.WriteLine();
        Console.WriteLine("Medians over the runs of each row; peak RSS is the highest of them; errors and broken chains are totals. " +
            "Other procs' cores: CPU used during the window by processes other than the server and the load generator (noise).");
        return 0;
    }

    private static string F(double? value, int decimals) =>
        value is { } v ? v.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "–";

    private static string I(long value) => value.ToString(CultureInfo.InvariantCulture);
}
