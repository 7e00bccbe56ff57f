using System.Globalization;
using System.Text;

namespace IdentityHost.Bench;

/// <summary>
/// Two panels side by side, throughput and p99 latency against concurrency (log scale), one line per mode through
/// the medians, faint dots for the single runs. Plain SVG; bench/chart turns it into a PNG with rsvg-convert.
/// </summary>
internal static class SvgChart
{
    private const int PanelWidth = 520, PanelHeight = 380, Top = 95, Left = 80, Gap = 110, Bottom = 60;
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

    public static int Write(IReadOnlyList<Aggregate> aggregates, string output)
    {
        var levels = aggregates.Select(a => a.Concurrency).Distinct().Order().ToArray();
        var modes = aggregates.Select(a => a.Mode).Distinct().ToArray();
        var width = Left + (2 * PanelWidth) + Gap + 40;
        var height = Top + PanelHeight + Bottom + (20 * modes.Length);
        var runs = aggregates.Max(a => a.Runs);
        var date = aggregates.SelectMany(a => a.Results).Min(r => r.StartedAt);
        var machines = aggregates.SelectMany(a => a.Results).Select(r => r.Machine).OfType<MachineUsage>().ToList();
        var noiseText = machines.Count == 0 ? ""
            : string.Create(CultureInfo.InvariantCulture, $" · other processes used {ResultSet.Median(machines.Select(m => m.OtherCores)):F2} of {machines[0].Cores} cores (median)");

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{width}" height="{height}" fill="white"/>""").Append('\n');
        Text(svg, width / 2.0, 28, "IdentityHost POST /connect/token under closed-loop load", 18, "middle", "bold");
        Text(svg, width / 2.0, 50, $"median of up to {runs} run(s) per point (dots: single runs) · {date:yyyy-MM-dd} · load generator and server on one machine{noiseText}", 12, "middle");

        Panel(svg, Left, "successful requests per second", aggregates, levels, modes, a => a.OkPerSecond, r => r.OkPerSecond, "N0");
        Panel(svg, Left + PanelWidth + Gap, "p99 latency (ms)", aggregates, levels, modes, a => a.P99, r => r.LatencyMs.P99, "N1");

        for (var m = 0; m < modes.Length; m++)
        {
            var y = Top + PanelHeight + 48 + (20 * m);
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{y - 4}" x2="{Left + 30}" y2="{y - 4}" stroke="{Colours[m % Colours.Length]}" stroke-width="3"/>""").Append('\n');
            Text(svg, Left + 38, y, $"{modes[m]} grant", 13, "start");
        }

        svg.Append("</svg>\n");
        File.WriteAllText(output, svg.ToString());
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    private static void Panel(StringBuilder svg, int x0, string title, IReadOnlyList<Aggregate> aggregates, int[] levels, string[] modes,
        Func<Aggregate, double> median, Func<BenchResult, double> single, string format)
    {
        var maxValue = aggregates.SelectMany(a => a.Results.Select(single).Append(median(a))).DefaultIfEmpty(1).Max();
        var (yMax, step) = NiceScale(maxValue);
        double X(int concurrency) => levels.Length == 1 ? x0 + (PanelWidth / 2.0)
            : x0 + 30 + ((PanelWidth - 60) * (Math.Log2(concurrency) - Math.Log2(levels[0])) / (Math.Log2(levels[^1]) - Math.Log2(levels[0])));
        double Y(double value) => Top + PanelHeight - (PanelHeight * value / yMax);

        Text(svg, x0 + (PanelWidth / 2.0), Top - 8, title, 14, "middle", "bold");
        for (var tick = 0.0; tick <= yMax + (step / 2); tick += step)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{x0}" y1="{Y(tick):F1}" x2="{x0 + PanelWidth}" y2="{Y(tick):F1}" stroke="#e0e0e0"/>""").Append('\n');
            Text(svg, x0 - 8, Y(tick) + 4, tick.ToString(step < 1 ? "N1" : "N0", CultureInfo.InvariantCulture), 12, "end");
        }

        foreach (var level in levels)
        {
            Text(svg, X(level), Top + PanelHeight + 20, level.ToString(CultureInfo.InvariantCulture), 12, "middle");
        }

        Text(svg, x0 + (PanelWidth / 2.0), Top + PanelHeight + 40, "concurrent clients (log scale)", 13, "middle");
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{x0}" y="{Top}" width="{PanelWidth}" height="{PanelHeight}" fill="none" stroke="#888"/>""").Append('\n');

        for (var m = 0; m < modes.Length; m++)
        {
            var colour = Colours[m % Colours.Length];
            var points = aggregates.Where(a => a.Mode == modes[m]).OrderBy(a => a.Concurrency).ToList();
            foreach (var result in points.SelectMany(a => a.Results))
            {
                svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{X(result.Concurrency):F1}" cy="{Y(single(result)):F1}" r="3" fill="{colour}" fill-opacity="0.3"/>""").Append('\n');
            }

            var path = string.Join(" ", points.Select(a => string.Create(CultureInfo.InvariantCulture, $"{X(a.Concurrency):F1},{Y(median(a)):F1}")));
            svg.Append(CultureInfo.InvariantCulture, $"""<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>""").Append('\n');
            foreach (var a in points)
            {
                svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{X(a.Concurrency):F1}" cy="{Y(median(a)):F1}" r="5" fill="{colour}"/>""").Append('\n');
                Text(svg, X(a.Concurrency), Y(median(a)) - 10, median(a).ToString(format, CultureInfo.InvariantCulture), 12, "middle", "bold");
            }
        }
    }

    /// <summary>An axis maximum and tick step of 1, 2 or 5 × 10^k giving about five ticks.</summary>
    private static (double Max, double Step) NiceScale(double max)
    {
        max = max <= 0 ? 1 : max * 1.12;
        var rough = max / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = new[] { 1.0, 2, 5, 10 }.Select(f => f * magnitude).First(s => s >= rough);
        return (Math.Ceiling(max / step) * step, step);
    }

    private static void Text(StringBuilder svg, double x, double y, string text, int size, string anchor, string weight = "normal") =>
        svg.Append(CultureInfo.InvariantCulture,
            $"""<text x="{x:F1}" y="{y:F1}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}">{System.Security.SecurityElement.Escape(text)}</text>""").Append('\n');
}
