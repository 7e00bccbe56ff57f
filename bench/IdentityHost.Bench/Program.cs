using System.Text.Json;
using IdentityHost.Bench;

// A load generator for IdentityHost's token endpoint (see bench/README.md), plus two report modes over its JSON output.
try
{
    return args switch
    {
        ["summary", .. var inputs] => Summary.Print(ResultSet.Load(inputs)),
        ["chart", "--out", var output, .. var inputs] => SvgChart.Write(ResultSet.Load(inputs), output),
        [] or ["--help"] or ["-h"] => Help(),
        _ => await RunAsync(BenchOptions.Parse(args)),
    };
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync($"{ex.Message}\n{BenchOptions.Usage}");
    return 1;
}

static int Help()
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

static async Task<int> RunAsync(BenchOptions options)
{
    // Bounded whatever happens: the run is cancelled at the hard limit, and the process ends 5 s after that.
    using var hardStop = new CancellationTokenSource(options.HardLimit);
    using var backstop = new Timer(_ =>
    {
        Console.Error.WriteLine("error: the run did not stop at its hard limit; exiting.");
        Environment.Exit(1);
    }, null, options.HardLimit + TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);

    var probe = options.ServerPid is { } pid ? new ServerProbe(pid) : null;
    if (probe is { IsAlive: false })
    {
        await Console.Error.WriteLineAsync($"error: no process {probe.Pid} (--server-pid).");
        return 1;
    }

    using var client = new TokenEndpointClient(options.Url, options.ClientId, options.ClientSecret, options.Concurrency + 4, options.Dpop, options.DpopUnsent);
    if (!await client.IsServerUpAsync(hardStop.Token))
    {
        await Console.Error.WriteLineAsync($"error: {options.Url}.well-known/openid-configuration does not answer 200; is IdentityHost running there?");
        return 1;
    }

    BenchResult result;
    try
    {
        result = await new LoadRun(options, client, probe).RunAsync(hardStop.Token);
    }
    catch (Exception ex) when (ex is InvalidOperationException || (ex is OperationCanceledException && hardStop.IsCancellationRequested))
    {
        await Console.Error.WriteLineAsync($"error: {(ex is OperationCanceledException ? "the hard time limit was reached while seeding chains" : ex.Message)}");
        return 1;
    }

    Console.Write(result.ToText());
    if (options.JsonPath is { } path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, BenchResult.Json) + "\n");
    }

    return result.Aborted ? 1 : options.FailOnError && !result.Clean ? 3 : 0;
}
