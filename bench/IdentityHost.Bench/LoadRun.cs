using System.Diagnostics;

namespace IdentityHost.Bench;

/// <summary>
/// One bounded run: seed (refresh mode), warm up, measure, verify (refresh mode). N closed-loop workers each send
/// a request, wait for the answer and send the next; they stop issuing requests when the window closes and finish
/// the one in flight (never cancelled, so a chain is never left not knowing whether its token was rotated).
/// </summary>
internal sealed class LoadRun(BenchOptions options, TokenEndpointClient client, ServerProbe? probe)
{
    private static readonly TimeSpan RssSampleInterval = TimeSpan.FromMilliseconds(250);

    public async Task<BenchResult> RunAsync(CancellationToken hardStop)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var chains = options.Mode == BenchMode.Refresh ? new RefreshChains(options, client) : null;
        if (chains is not null)
        {
            await chains.SeedAsync(hardStop);
        }

        var window = Window.After(options.Warmup, options.Duration);
        var recorders = Enumerable.Range(0, options.Concurrency).Select(_ => new Recorder(window, options.SlowMs)).ToArray();
        var monitor = MonitorAsync(window, hardStop);
        var workers = recorders.Select((recorder, i) => Task.Run(() => chains is null
            ? WorkAsync(recorder, window, hardStop)
            : chains.WorkAsync(i, recorder, window, hardStop), hardStop));

        var aborted = false;
        ChainSummary? chainSummary = null;
        var verification = new Recorder(window);
        try
        {
            await Task.WhenAll(workers);
            if (chains is not null)
            {
                chainSummary = await chains.VerifyAsync(verification, hardStop);
            }
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            aborted = true;
        }

        var (server, clientCpu, machine) = await monitor;
        var ok = recorders.Sum(r => r.Ok);
        if (options.SlowMs is { } slowMs)
        {
            var slow = recorders.SelectMany(r => r.Slow).OrderBy(r => r.StartedUtc).ToArray();
            Console.Error.WriteLine($"{slow.Length} requests slower than {slowMs} ms (UTC start, ms):");
            foreach (var request in slow)
            {
                Console.Error.WriteLine($"  {request.StartedUtc:HH:mm:ss.fff}  {request.Ms,8:F1}");
            }
        }

        return new BenchResult
        {
            StartedAt = startedAt,
            Mode = BenchOptions.ModeName(options.Mode),
            Url = options.Url.ToString(),
            Concurrency = options.Concurrency,
            WarmupSeconds = options.Warmup.TotalSeconds,
            DurationSeconds = options.Duration.TotalSeconds,
            Ok = ok,
            OkPerSecond = ok / options.Duration.TotalSeconds,
            Errors = Recorder.Merge(recorders.Select(r => r.Errors)),
            ErrorsOutsideWindow = Recorder.Merge(recorders.Append(verification).Select(r => r.ErrorsOutsideWindow)),
            LatencyMs = Recorder.Summarise(recorders),
            Server = server is null ? null : server with { OkPerCpuSecond = server.CpuSeconds > 0 ? ok / server.CpuSeconds : 0 },
            ClientCpuSeconds = clientCpu,
            Machine = machine,
            Chains = chainSummary,
            Aborted = aborted,
        };
    }

    /// <summary>Password or client_credentials requests in a closed loop.</summary>
    private async Task WorkAsync(Recorder recorder, Window window, CancellationToken cancellationToken)
    {
        while (!window.IsOver)
        {
            var started = Stopwatch.GetTimestamp();
            var outcome = options.Mode == BenchMode.Password
                ? await client.PasswordAsync(options.UserName, options.Password, options.EffectiveScope, cancellationToken)
                : await client.ClientCredentialsAsync(options.EffectiveScope, cancellationToken);
            var completed = Stopwatch.GetTimestamp();
            if (outcome.Succeeded)
            {
                recorder.Success(started, completed);
            }
            else
            {
                recorder.Failure(outcome.ErrorKey, completed);
            }
        }
    }

    /// <summary>
    /// Server CPU (and the generator's own, and the machine's) at the window's edges, and the server's RSS sampled through it.
    /// Returns no server usage when no PID was given or the process vanished.
    /// </summary>
    private async Task<(ServerUsage? Server, double ClientCpuSeconds, MachineUsage? Machine)> MonitorAsync(Window window, CancellationToken cancellationToken)
    {
        using var self = Process.GetCurrentProcess();
        try
        {
            await Task.Delay(window.UntilStart, cancellationToken);
            var serverCpu = probe?.CpuSeconds() ?? 0;
            self.Refresh();
            var clientCpu = self.TotalProcessorTime;
            var machineBusy = ServerProbe.MachineBusySeconds();
            var measuredFrom = Stopwatch.GetTimestamp();
            var peakRss = 0.0;
            while (!window.IsOver)
            {
                peakRss = Math.Max(peakRss, probe?.Memory().RssMb ?? 0);
                var wait = window.UntilEnd;
                await Task.Delay(wait < RssSampleInterval ? wait : RssSampleInterval, cancellationToken);
            }

            serverCpu = (probe?.CpuSeconds() ?? 0) - serverCpu;
            self.Refresh();
            var clientSeconds = (self.TotalProcessorTime - clientCpu).TotalSeconds;
            machineBusy = ServerProbe.MachineBusySeconds() - machineBusy;
            var elapsed = Stopwatch.GetElapsedTime(measuredFrom).TotalSeconds;
            var machine = new MachineUsage(Environment.ProcessorCount, machineBusy / elapsed, Math.Max(0, machineBusy - serverCpu - clientSeconds) / elapsed);
            if (probe is null)
            {
                return (null, clientSeconds, machine);
            }

            var (rss, hwm) = probe.Memory();
            return (new ServerUsage(probe.Pid, serverCpu, 0, serverCpu / elapsed, Math.Max(peakRss, rss), hwm), clientSeconds, machine);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"warning: cannot read /proc/{probe?.Pid} any more ({ex.Message}); did the server exit?");
            return (null, 0, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (null, 0, null);
        }
    }
}
