using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace IdentityHost.Testing;

/// <summary>Every log event the server writes (Serilog reads sinks registered in DI), rendered as text.</summary>
public sealed class LogCapture : ILogEventSink
{
    private static readonly CompactJsonFormatter JsonFormatter = new();
    private readonly ConcurrentQueue<(LogEventLevel Level, string Text)> events = new();
    private readonly ConcurrentQueue<string> full = new();

    public IEnumerable<(LogEventLevel Level, string Text)> Events => events;

    /// <summary>
    /// Every event in full: the rendered message, then the event as the JSON console writes it (template, every property
    /// — request path, status, enrichers' values — and the exception). What a secret-leak check must search, since
    /// properties do not all appear in the message.
    /// </summary>
    public IEnumerable<string> Full => full;

    public void Emit(LogEvent logEvent)
    {
        var text = logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture);
        if (logEvent.Exception is not null)
        {
            text += Environment.NewLine + logEvent.Exception;
        }

        events.Enqueue((logEvent.Level, text));
        using var writer = new StringWriter();
        JsonFormatter.Format(logEvent, writer);
        full.Enqueue(text + Environment.NewLine + writer);
    }

    public IEnumerable<string> At(LogEventLevel level) => events.Where(entry => entry.Level == level).Select(entry => entry.Text);
}
