using System.Reflection;
using System.Text.RegularExpressions;
using IdentityHost.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Serilog;

namespace IdentityHost.Hosting;

/// <summary>
/// What an operator sees when start-up fails. A configuration problem (a setting a validator refuses, a value that does
/// not parse, a key-folder or set-up problem: <see cref="SetupException"/>, a database that cannot be opened:
/// <see cref="DatabaseFailure"/>, a port already in use) is one line per problem, naming the key, file or address, what
/// is wrong and what would be valid, on standard error and in the log, with no stack trace; the full
/// exception is logged at Debug (<c>Serilog__MinimumLevel__Default=Debug</c>). Anything else is a fault, logged in full.
/// </summary>
public static partial class StartupFailure
{
    /// <summary>Reports <paramref name="exception"/> and returns the process exit code.</summary>
    public static int Report(Exception exception)
    {
        if (Problems(exception) is not { } problems)
        {
            Log.Fatal(exception, "IdentityHost failed to start");
            return 1;
        }

        foreach (var problem in problems)
        {
            Console.Error.WriteLine(problem);
            Log.Fatal("IdentityHost cannot start: {Problem:l}", problem);
        }

        Log.Debug(exception, "IdentityHost failed to start because of its configuration or environment");
        return 1;
    }

    /// <summary>One line per configuration problem in <paramref name="exception"/>; null when it is something else.</summary>
    internal static IReadOnlyList<string>? Problems(Exception exception)
    {
        var problems = new List<string>();
        return Collect(exception, problems) ? problems : null;
    }

    private static bool Collect(Exception exception, List<string> problems)
    {
        switch (exception)
        {
            case AggregateException aggregate:
                return aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(inner => Collect(inner, problems));
            case TargetInvocationException { InnerException: { } inner }:
                return Collect(inner, problems);
            case OptionsValidationException validation:
                problems.AddRange(validation.Failures.Select(OneLine));
                return true;
            case SetupException setup:
                problems.Add(OneLine(setup.Message));
                return true;
            case IOException { InnerException: AddressInUseException } bind:
                problems.Add(AddressInUse(bind.Message));
                return true;
            case InvalidOperationException { InnerException: { } cause } binding
                when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                // The configuration binder names the key, the value and the type; add what a valid value looks like.
                problems.Add(OneLine(binding.Message.Contains("'System.TimeSpan'", StringComparison.Ordinal)
                    ? $"{binding.Message} Use [d.]hh:mm:ss, e.g. 00:15:00 or 30.00:00:00."
                    : $"{binding.Message} {cause.Message}"));
                return true;
            default:
                return false;
        }
    }

    /// <summary>Kestrel's "Failed to bind to address http://127.0.0.1:5001: address already in use.", said as what to do.</summary>
    private static string AddressInUse(string message)
    {
        var address = BoundAddress().Match(message) is { Success: true } match ? $" on {match.Groups["address"].Value}" : "";
        return $"Cannot listen{address}: address already in use (another IdentityHost?); choose another with --urls.";
    }

    [GeneratedRegex(@"address (?<address>\S+?): address already in use", RegexOptions.CultureInvariant)]
    private static partial Regex BoundAddress();

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
