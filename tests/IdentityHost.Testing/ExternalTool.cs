using System.Diagnostics;
using System.Text;
using Xunit.Sdk;

namespace IdentityHost.Testing;

/// <summary>
/// Command-line tools a test runs from PATH (newman, a browser): finding them, failing clearly when they are missing,
/// and running them with a time limit. See <see cref="RequiresToolFactAttribute"/> for skipping outside CI.
/// </summary>
public static class ExternalTool
{
    /// <summary>True when the environment variable <c>CI</c> is <c>true</c> (or <c>1</c>), as CI services set it.</summary>
    public static bool IsCi =>
        Environment.GetEnvironmentVariable("CI") is { } ci && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    /// <summary>The full path of <paramref name="name"/> on PATH (with PATHEXT on Windows), or null.</summary>
    public static string? Find(string name)
    {
        var extensions = OperatingSystem.IsWindows()
            ? (Environment.GetEnvironmentVariable("PATHEXT") ?? ".EXE;.CMD;.BAT").Split(';', StringSplitOptions.RemoveEmptyEntries).Prepend("")
            : [""];
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return folders
            .SelectMany(folder => extensions.Select(extension => Path.Combine(folder, name + extension)))
            .FirstOrDefault(IsExecutable);
    }

    /// <summary>The full path of <paramref name="name"/>; fails the test, naming <paramref name="install"/>, when it is missing.</summary>
    public static string Require(string name, string install) =>
        Find(name) ?? throw new XunitException(
            $"{name} is not on PATH{(IsCi ? " and CI=true, so this test fails instead of being skipped" : "")}. Install it with: {install}");

    /// <summary>Runs <paramref name="path"/> to its end; a run longer than <paramref name="timeout"/> is killed and has no exit code.</summary>
    public static async Task<ToolRun> RunAsync(string path, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(path)
        {
            WorkingDirectory = workingDirectory ?? RepositoryLayout.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{path} did not start");
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cancellation = new CancellationTokenSource(timeout);
        int? exitCode;
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
            process.WaitForExit(); // drains the redirected output
            exitCode = process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
            exitCode = null;
        }

        lock (output)
        {
            return new ToolRun(exitCode, output.ToString());
        }
    }

    private static bool IsExecutable(string file) =>
        File.Exists(file) &&
        (OperatingSystem.IsWindows() ||
         (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}

/// <summary>How a tool run ended: its exit code (null when it was killed for running too long) and its output.</summary>
public sealed record ToolRun(int? ExitCode, string Output);
