using System.Diagnostics;
using System.Text;

namespace IdentityHost.Testing;

/// <summary>
/// Runs a built app (IdentityHost or SampleApi) as a real process, the way <c>dotnet run</c> would, and collects its
/// console output. Used where in-memory hosting cannot show the real behaviour, e.g. a start-up that must fail.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly StringBuilder standardOutput = new();
    private readonly StringBuilder errorOutput = new();

    private ServerProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, line) =>
        {
            Append(line.Data);
            lock (output)
            {
                if (line.Data is not null)
                {
                    standardOutput.AppendLine(line.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            Append(line.Data);
            lock (output)
            {
                if (line.Data is not null)
                {
                    errorOutput.AppendLine(line.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>What the process wrote to standard output alone (also part of <see cref="Output"/>).</summary>
    public string StandardOutput
    {
        get
        {
            lock (output)
            {
                return standardOutput.ToString();
            }
        }
    }

    /// <summary>What the process wrote to standard error alone (also part of <see cref="Output"/>).</summary>
    public string ErrorOutput
    {
        get
        {
            lock (output)
            {
                return errorOutput.ToString();
            }
        }
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>
    /// Starts <c>src/{project}</c>'s build output in the project folder (its content root, as with <c>dotnet run</c>),
    /// with <paramref name="environment"/> added to ours.
    /// </summary>
    public static ServerProcess Start(string project, IDictionary<string, string?> environment, params string[] arguments)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var projectFolder = RepositoryLayout.ProjectFolder(Path.Combine("src", project));
        var assembly = Path.Combine(projectFolder, "bin", configuration, "net10.0", project + ".dll");
        if (!File.Exists(assembly))
        {
            throw new InvalidOperationException($"{assembly} is missing: build the solution first.");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = projectFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new ServerProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    /// <summary>
    /// Runs IdentityHost in Development on <paramref name="folder"/>'s keys and a SQLite database in it, on a free port,
    /// until it exits on its own (at most a minute): for start-ups that must fail.
    /// </summary>
    public static async Task<(int? ExitCode, string Output, string Errors)> RunIdentityHostToExitAsync(TestFolder folder, Dictionary<string, string?> environment)
    {
        environment.TryAdd("ConnectionStrings__IdentityHost", $"Data Source={Path.Combine(folder.Path, "identityhost.db")}");
        environment["IdentityHost__KeysPath"] = folder.KeysPath;
        environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        using var server = Start("IdentityHost", environment);
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, server.Output, server.ErrorOutput);
    }

    /// <summary>Waits for the process to exit on its own; null if it is still running after <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
