using System.Diagnostics;

namespace IdentityHost.Bench;

/// <summary>One refresh-token family: the latest refresh token a worker holds.</summary>
internal sealed class Chain(string refreshToken)
{
    public string? RefreshToken { get; set; } = refreshToken;
}

/// <summary>
/// Refresh mode: N chains seeded through the password grant, each refreshed in a closed loop by its own worker
/// (always with the refresh token it got last). A failed refresh breaks the chain: it is counted and the worker
/// starts a new chain, so the load stays at N. After the run each chain's latest token must still refresh once.
/// </summary>
internal sealed class RefreshChains(BenchOptions options, TokenEndpointClient client)
{
    private const int SetupParallelism = 4;
    private Chain[] chains = [];
    private int reseeded;
    private int brokenDuringRun;

    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        chains = new Chain[options.Concurrency];
        await Parallel.ForEachAsync(Enumerable.Range(0, chains.Length),
            new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var outcome = await client.PasswordAsync(options.UserName, options.Password, options.EffectiveScope, token);
                chains[i] = outcome is { Succeeded: true, RefreshToken: { } refreshToken }
                    ? new Chain(refreshToken)
                    : throw new InvalidOperationException($"Seeding a chain with the password grant failed: {Describe(outcome)}. " +
                        $"Check --client/--secret/--user/--password and that the scope '{options.EffectiveScope}' includes offline_access.");
            });
    }

    public async Task WorkAsync(int worker, Recorder recorder, Window window, CancellationToken cancellationToken)
    {
        var chain = chains[worker];
        while (!window.IsOver && chain.RefreshToken is { } refreshToken)
        {
            var started = Stopwatch.GetTimestamp();
            var outcome = await client.RefreshAsync(refreshToken, cancellationToken);
            var completed = Stopwatch.GetTimestamp();
            if (outcome is { Succeeded: true, RefreshToken: { } next })
            {
                chain.RefreshToken = next;
                recorder.Success(started, completed);
                continue;
            }

            recorder.Failure(Describe(outcome), completed);
            Interlocked.Increment(ref brokenDuringRun);
            chain.RefreshToken = await ReseedAsync(recorder, window, cancellationToken);
        }
    }

    /// <summary>One more refresh per chain after the run; returns the summary with the chains that failed it.</summary>
    public async Task<ChainSummary> VerifyAsync(Recorder recorder, CancellationToken cancellationToken)
    {
        var broken = 0;
        await Parallel.ForEachAsync(chains,
            new ParallelOptions { MaxDegreeOfParallelism = SetupParallelism, CancellationToken = cancellationToken },
            async (chain, token) =>
            {
                if (chain.RefreshToken is null)
                {
                    return; // could not be re-seeded; already counted as broken during the run
                }

                var outcome = await client.RefreshAsync(chain.RefreshToken, token);
                if (outcome is { Succeeded: true, RefreshToken: not null })
                {
                    return;
                }

                Interlocked.Increment(ref broken);
                lock (recorder)
                {
                    recorder.SideFailure("verification " + Describe(outcome));
                }
            });

        return new ChainSummary(chains.Length, reseeded, brokenDuringRun, broken);
    }

    /// <summary>A new chain after a broken one; retried until the window ends, then the worker gives up.</summary>
    private async Task<string?> ReseedAsync(Recorder recorder, Window window, CancellationToken cancellationToken)
    {
        do
        {
            var outcome = await client.PasswordAsync(options.UserName, options.Password, options.EffectiveScope, cancellationToken);
            if (outcome is { Succeeded: true, RefreshToken: { } refreshToken })
            {
                Interlocked.Increment(ref reseeded);
                return refreshToken;
            }

            recorder.SideFailure("re-seeding " + Describe(outcome));
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
        while (!window.IsOver);

        return null;
    }

    private static string Describe(TokenOutcome outcome) => outcome.Succeeded ? "200 without refresh_token" : outcome.ErrorKey;
}
