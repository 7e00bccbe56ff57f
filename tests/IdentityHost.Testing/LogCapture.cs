using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace IdentityHost.Testing;

/// <summary>Every log event the server writes (Serilog reads sinks registered in DI), rendered as text.</summary>
public sealed class LogCapture : ILogEventSink
{
    private readonly ConcurrentQueue<(LogEventLevel Level, string Text)> events = new();

    public IEnumerable<(LogEventLevel Level, string Text)> Events => events;

    public void Emit(LogEvent logEvent)
    {
        var text = logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture);
        if (logEvent.Exception is not null)
        {
            text += Environment.NewLine + logEvent.Exception;
        }

        events.Enqueue((logEvent.Level, text));
    }

    public IEnumerable<string> At(LogEventLevel level) => events.Where(entry => entry.Level == level).Select(entry => entry.Text);
}
