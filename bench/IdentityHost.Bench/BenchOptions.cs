using System.Globalization;

namespace IdentityHost.Bench;

/// <summary>The grant a run drives in a closed loop.</summary>
internal enum BenchMode
{
    Refresh,
    Password,
    ClientCredentials,
}

/// <summary>Command-line settings of one load run. Defaults match the Development demo client and user.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        usage: IdentityHost.Bench --url http://127.0.0.1:PORT [--mode refresh|password|client_credentials]
                                  [--concurrency N] [--duration 20s] [--warmup 5s] [--server-pid PID]
                                  [--client postman] [--secret postman-secret] [--scope "offline_access api"]
                                  [--user alice] [--password 'Pass123$'] [--json out.json] [--fail-on-error] [--dpop | --dpop-unsent] [--slow MS]
               IdentityHost.Bench summary RESULT.json|DIR...
               IdentityHost.Bench chart --out chart.svg RESULT.json|DIR...
        Durations: 20s, 500ms, 1m or plain seconds. The run stops by itself after warmup + duration + 30 s at most.
        Exit code: 0 clean, 3 errors or broken chains (with --fail-on-error), 1 unusable run (bad arguments, seeding failed, timed out).
        """;

    public required Uri Url { get; init; }

    public BenchMode Mode { get; init; } = BenchMode.Refresh;

    public int Concurrency { get; init; } = 1;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    public int? ServerPid { get; init; }

    public string ClientId { get; init; } = "postman";

    public string ClientSecret { get; init; } = "postman-secret";

    /// <summary>Defaults to <c>offline_access api</c>, or <c>api</c> for client_credentials (no refresh token there).</summary>
    public string? Scope { get; init; }

    public string UserName { get; init; } = "alice";

    public string Password { get; init; } = "Pass123$";

    public string? JsonPath { get; init; }

    public bool FailOnError { get; init; }

    /// <summary>Send a new RFC 9449 DPoP proof (ES256) with every token request (<c>--dpop</c>).</summary>
    public bool Dpop { get; init; }

    /// <summary>
    /// Make the same proofs but do not send them (<c>--dpop-unsent</c>): a Bearer run that spends the client-side CPU of
    /// a DPoP run, so that <c>BENCH_A=--dpop-unsent BENCH_B=--dpop bench/ab.sh</c> compares the server's cost alone.
    /// </summary>
    public bool DpopUnsent { get; init; }

    /// <summary>
    /// List every request of the window slower than this (<c>--slow 50</c>, in ms) with its UTC start time, so that
    /// a slow request can be matched with what the server did at that moment (GC, checkpoints, thread-pool growth).
    /// </summary>
    public double? SlowMs { get; init; }

    public string EffectiveScope => Scope ?? (Mode == BenchMode.ClientCredentials ? "api" : "offline_access api");

    /// <summary>The absolute bound on a run: seeding, warm-up, measurement, verification and reporting included.</summary>
    public TimeSpan HardLimit => Warmup + Duration + TimeSpan.FromSeconds(30);

    public static string ModeName(BenchMode mode) => mode switch
    {
        BenchMode.Refresh => "refresh",
        BenchMode.Password => "password",
        _ => "client_credentials",
    };

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var failOnError = false;
        var dpop = false;
        var dpopUnsent = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{arg}'.");
            }

            if (arg == "--fail-on-error")
            {
                failOnError = true;
                continue;
            }

            if (arg == "--dpop")
            {
                dpop = true;
                continue;
            }

            if (arg == "--dpop-unsent")
            {
                dpopUnsent = true;
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values[arg[2..equals]] = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                values[arg[2..]] = args[++i];
            }
            else
            {
                throw new ArgumentException($"Option '{arg}' needs a value.");
            }
        }

        string? Take(string name) => values.Remove(name, out var value) ? value : null;

        var url = Take("url") ?? throw new ArgumentException("--url is required.");
        var options = new BenchOptions
        {
            Url = Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var uri) ? uri : throw new ArgumentException($"--url '{url}' is not an absolute URL."),
            Mode = Take("mode") switch
            {
                null or "refresh" or "refresh_token" => BenchMode.Refresh,
                "password" => BenchMode.Password,
                "client_credentials" => BenchMode.ClientCredentials,
                var other => throw new ArgumentException($"--mode '{other}' is not one of refresh, password, client_credentials."),
            },
            Concurrency = Take("concurrency") is { } c ? ParsePositive(c, "--concurrency", 4096) : 1,
            Duration = Take("duration") is { } d ? ParseDuration(d, "--duration") : TimeSpan.FromSeconds(20),
            Warmup = Take("warmup") is { } w ? ParseDuration(w, "--warmup", allowZero: true) : TimeSpan.FromSeconds(5),
            ServerPid = Take("server-pid") is { } pid ? ParsePositive(pid, "--server-pid", int.MaxValue) : null,
            ClientId = Take("client") ?? "postman",
            ClientSecret = Take("secret") ?? "postman-secret",
            Scope = Take("scope"),
            UserName = Take("user") ?? "alice",
            Password = Take("password") ?? "Pass123$",
            JsonPath = Take("json"),
            FailOnError = failOnError,
            Dpop = dpop,
            DpopUnsent = dpopUnsent,
            SlowMs = Take("slow") is { } slow ? ParsePositive(slow, "--slow", 3_600_000) : null,
        };

        return values.Count == 0 ? options : throw new ArgumentException($"Unknown option '--{values.Keys.First()}'.");
    }

    private static int ParsePositive(string text, string name, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= max
            ? value
            : throw new ArgumentException($"{name} '{text}' must be a whole number from 1 to {max}.");

    /// <summary>Parses <c>20s</c>, <c>500ms</c>, <c>2m</c> or plain seconds; at most one hour.</summary>
    internal static TimeSpan ParseDuration(string text, string name, bool allowZero = false)
    {
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ => (text, 1.0),
        };

        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ||
            value * scale > 3600 || (value <= 0 && !allowZero))
        {
            throw new ArgumentException($"{name} '{text}' is not a duration such as 20s, 500ms or 1m (at most 1 hour).");
        }

        return TimeSpan.FromSeconds(value * scale);
    }
}
