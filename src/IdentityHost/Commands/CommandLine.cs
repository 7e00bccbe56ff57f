using IdentityHost.Hosting;
using Serilog;

namespace IdentityHost.Commands;

/// <summary>
/// Reads the command line the way a person means it. Configuration comes first, in ASP.NET Core's forms
/// (<c>--urls URL</c>, <c>--Key value</c>, <c>/Key value</c>, <c>--Key=value</c>, <c>Key=value</c>); the first other
/// word is a command, and everything after it is the command's. No command runs the server. <c>help</c>,
/// <c>--help</c> and <c>-h</c> list the commands; an unknown command or option is one line on standard error and exit
/// code 2, answered before anything is built: it never starts the server, touches the database or creates keys.
/// </summary>
public static class CommandLine
{
    private static readonly string[] HelpWords = ["help", "--help", "-h", "-?", "/?", "/help"];

    /// <summary>What <paramref name="args"/> ask for; nothing is printed or built.</summary>
    public static Invocation Classify(string[] args)
    {
        for (var index = 0; index < args.Length; index++)
        {
            var arg = args[index];
            if (HelpWords.Contains(arg, StringComparer.Ordinal))
            {
                return Help(args[(index + 1)..]);
            }

            if (arg.Contains('=', StringComparison.Ordinal) && !IsShortOption(arg))
            {
                continue; // --Key=value, /Key=value or Key=value
            }

            if (arg.StartsWith("--", StringComparison.Ordinal) || arg.StartsWith('/'))
            {
                index++; // --Key value: the next argument is its value, whatever it looks like
                continue;
            }

            if (IsShortOption(arg))
            {
                return Invalid($"Unknown option '{arg}'; 'help' lists the commands and options.");
            }

            var command = args[index..];
            return !CommandCatalog.IsKnown(arg) ? Invalid($"Unknown command '{arg}'; 'help' lists the commands.")
                : command.Skip(1).Any(word => word is "--help" or "-h") ? new(InvocationKind.Help, [arg])
                : new(InvocationKind.Command, command);
        }

        return new(InvocationKind.Server, []);
    }

    /// <summary>Answers help and mistakes (printed; the exit code returned); null when the host must be built.</summary>
    public static int? AnswerWithoutHost(Invocation invocation)
    {
        switch (invocation.Kind)
        {
            case InvocationKind.Help:
                Console.WriteLine(invocation.Command is [var word] ? CommandCatalog.Help(word) : CommandCatalog.Help());
                return 0;
            case InvocationKind.Invalid:
                Console.Error.WriteLine(invocation.Problem);
                return 2;
            default:
                return null;
        }
    }

    /// <summary>
    /// Runs a command on the built host. A failure is one line on standard error and exit code 1 (a problem a person
    /// can fix names what and where); the full exception goes to the log at Debug.
    /// </summary>
    public static async Task<int> RunAsync(WebApplication app, string[] command)
    {
        try
        {
            return await AdminCommands.RunAsync(app, command);
        }
        catch (Exception ex)
        {
            var problems = StartupFailure.Problems(ex)
                ?? (DatabaseFailure.Describe(ex, app.Services) is { } database ? [database.Message]
                : [$"'{string.Join(' ', command)}' failed: {ex.Message.ReplaceLineEndings(" ")} (the log at Debug level has the details)"]);
            foreach (var problem in problems)
            {
                await Console.Error.WriteLineAsync(problem);
            }

            Log.Debug(ex, "The command {Command} failed", command[0]);
            return 1;
        }
    }

    /// <summary>The one line for a known command given the wrong arguments (its usage), and exit code 2.</summary>
    public static async Task<int> WrongArgumentsAsync(string[] command)
    {
        await Console.Error.WriteLineAsync(
            $"Invalid command '{string.Join(' ', command)}': usage: {CommandCatalog.UsageOf(command[0])} ('help' lists every command).");
        return 2;
    }

    private static Invocation Help(string[] rest) => rest switch
    {
        [var word, ..] when CommandCatalog.IsKnown(word) => new(InvocationKind.Help, [word]),
        [var word, ..] when IsWord(word) => Invalid($"Unknown command '{word}'; 'help' lists the commands."),
        _ => new(InvocationKind.Help, []),
    };

    private static bool IsWord(string arg) => arg.Length > 0 && arg[0] is not ('-' or '/') && !arg.Contains('=', StringComparison.Ordinal);

    /// <summary><c>-x</c>: ASP.NET Core ignores a single-dash switch it has no mapping for, so it means nothing here.</summary>
    private static bool IsShortOption(string arg) => arg.Length > 1 && arg[0] == '-' && arg[1] != '-';

    private static Invocation Invalid(string problem) => new(InvocationKind.Invalid, [], problem);
}

public enum InvocationKind
{
    /// <summary>No command: run the token server.</summary>
    Server,

    /// <summary><c>help</c>: the list of commands, or one command word's usage.</summary>
    Help,

    /// <summary>A known command word; its arguments are checked when it runs.</summary>
    Command,

    /// <summary>An unknown command or option: <see cref="Invocation.Problem"/> says which.</summary>
    Invalid,
}

/// <param name="Kind">What was asked for.</param>
/// <param name="Command">The command word and its arguments (for help, the word asked about, if any).</param>
/// <param name="Problem">For <see cref="InvocationKind.Invalid"/>, the line to print.</param>
public sealed record Invocation(InvocationKind Kind, string[] Command, string? Problem = null);
