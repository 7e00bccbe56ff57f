using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IdentityHost.Bench;

/// <summary>Latency of the successful requests completed in the measured window, in milliseconds.</summary>
internal sealed record LatencySummary(int Count, double Mean, double P50, double P90, double P99, double Max);

/// <summary>The server process seen through /proc during the measured window.</summary>
internal sealed record ServerUsage(int Pid, double CpuSeconds, double OkPerCpuSecond, double CpuCores, double PeakRssMb, double VmHwmMb);

/// <summary>
/// The whole machine during the measured window: how many cores were busy, and how many of them were used neither
/// by the server nor by the load generator (other processes: a noisy neighbour makes every other number suspect).
/// </summary>
internal sealed record MachineUsage(int Cores, double BusyCores, double OtherCores);

/// <summary>Refresh chains: seeded by the password grant, re-seeded after a failure, and how many broke.</summary>
internal sealed record ChainSummary(int Seeded, int Reseeded, int BrokenDuringRun, int BrokenAtVerification)
{
    public int Broken => BrokenDuringRun + BrokenAtVerification;
}

/// <summary>One run of the load generator, as printed and as written with <c>--json</c>.</summary>
internal sealed record BenchResult
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Tool { get; init; } = "IdentityHost.Bench";

    public DateTimeOffset StartedAt { get; init; }

    public required string Mode { get; init; }

    public required string Url { get; init; }

    public int Concurrency { get; init; }

    public double WarmupSeconds { get; init; }

    public double DurationSeconds { get; init; }

    /// <summary>Successful requests completed in the measured window.</summary>
    public long Ok { get; init; }

    public double OkPerSecond { get; init; }

    /// <summary>Failed requests completed in the measured window, by <c>status error</c>.</summary>
    public SortedDictionary<string, long> Errors { get; init; } = [];

    /// <summary>Failed requests outside the window: warm-up, the tail after it, re-seeding and verification.</summary>
    public SortedDictionary<string, long> ErrorsOutsideWindow { get; init; } = [];

    public required LatencySummary LatencyMs { get; init; }

    public ServerUsage? Server { get; init; }

    /// <summary>CPU seconds the load generator itself used in the window (it shares the machine with the server).</summary>
    public double ClientCpuSeconds { get; init; }

    public MachineUsage? Machine { get; init; }

    public ChainSummary? Chains { get; init; }

    /// <summary>True when the hard time limit stopped the run before it finished.</summary>
    public bool Aborted { get; init; }

    [JsonIgnore]
    public long ErrorCount => Errors.Values.Sum() + ErrorsOutsideWindow.Values.Sum();

    [JsonIgnore]
    public bool Clean => !Aborted && ErrorCount == 0 && (Chains?.Broken ?? 0) == 0;

    public string ToText()
    {
        static string F(double value, int decimals = 2) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);
        static string List(SortedDictionary<string, long> errors) =>
            errors.Count == 0 ? "0" : $"{errors.Values.Sum()}  (" + string.Join(", ", errors.Select(e => $"{e.Key}: {e.Value}")) + ")";

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"IdentityHost.Bench  mode {Mode}  concurrency {Concurrency}  warm-up {F(WarmupSeconds, 1)} s  measured {F(DurationSeconds, 1)} s  {Url}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  ok              {Ok}  ({F(OkPerSecond, 1)} ok/s)");
        text.AppendLine(CultureInfo.InvariantCulture, $"  errors          {List(Errors)}");
        if (ErrorsOutsideWindow.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  errors outside  {List(ErrorsOutsideWindow)}  (warm-up, tail, re-seeding, verification)");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  latency ms      p50 {F(LatencyMs.P50)}  p90 {F(LatencyMs.P90)}  p99 {F(LatencyMs.P99)}  max {F(LatencyMs.Max)}  (mean {F(LatencyMs.Mean)}, n={LatencyMs.Count})");
        if (Server is { } server)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  server CPU      {F(server.CpuSeconds)} s  ({F(server.CpuCores)} cores)  ->  {F(server.OkPerCpuSecond, 0)} ok per server CPU-second");
            text.AppendLine(CultureInfo.InvariantCulture, $"  server RSS      peak {F(server.PeakRssMb, 1)} MB sampled in the window  (VmHWM {F(server.VmHwmMb, 1)} MB since start)  pid {server.Pid}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"  client CPU      {F(ClientCpuSeconds)} s  ({F(ClientCpuSeconds / Math.Max(DurationSeconds, 1e-9))} cores, the load generator itself)");
        if (Machine is { } machine)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  machine         {F(machine.BusyCores)} of {machine.Cores} cores busy; {F(machine.OtherCores)} used by other processes{(machine.OtherCores > 0.25 ? "  (noisy: numbers are suspect)" : "")}");
        }

        if (Chains is { } chains)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  chains          {chains.Seeded} seeded, {chains.Reseeded} re-seeded after a failure");
            text.AppendLine(CultureInfo.InvariantCulture, $"  broken chains: {chains.Broken}  ({chains.BrokenDuringRun} during the run, {chains.BrokenAtVerification} at verification)");
        }

        if (Aborted)
        {
            text.AppendLine("  ABORTED: the hard time limit (warm-up + duration + 30 s) was reached; numbers are partial.");
        }

        return text.ToString();
    }
}
