using System.Diagnostics;
using IdentityHost.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace IdentityHost.Tests.Telemetry;

/// <summary>
/// Turns on the server's tracing as an operator would (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, here pointing at a closed
/// local port) and keeps every finished span in memory as well; and scrapes <c>/metrics</c>.
/// </summary>
internal sealed class TelemetryCapture
{
    /// <summary>The discard port: nothing listens, the OTLP exporter's attempts fail quietly in the background.</summary>
    public const string UnreachableCollector = "http://127.0.0.1:9";

    /// <summary>Settings that turn tracing on: the collector's address, and a short export timeout for shutdown.</summary>
    public static readonly Dictionary<string, string?> TracingSettings = new()
    {
        [TelemetryExtensions.OtlpEndpointVariable] = UnreachableCollector,
        ["OTEL_EXPORTER_OTLP_TIMEOUT"] = "200",
    };

    /// <summary>Every finished span (the exporter adds from the thread that ends one).</summary>
    public SynchronizedCollection Spans { get; } = [];

    /// <summary>For <see cref="IdentityHostFactory.ServiceOverrides"/>; set <see cref="TelemetryExtensions.OtlpEndpointVariable"/> too.</summary>
    public void AddInMemoryExporter(IServiceCollection services) =>
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));

    public IReadOnlyList<Activity> Finished()
    {
        lock (Spans)
        {
            return [.. Spans.Items];
        }
    }

    /// <summary>Each span as text lines: its name, and each attribute, event and status as <c>key=value</c>.</summary>
    public IEnumerable<string> SpanLines() => Finished().SelectMany(span => new[] { span.DisplayName, span.StatusDescription ?? "" }
        .Concat(span.TagObjects.Select(tag => $"{span.DisplayName} {tag.Key}={tag.Value}"))
        .Concat(span.Events.SelectMany(e => e.Tags.Select(tag => $"{span.DisplayName} {e.Name} {tag.Key}={tag.Value}")))
        .Concat(span.Baggage.Select(item => $"{span.DisplayName} {item.Key}={item.Value}")));

    /// <summary>
    /// <c>GET /metrics</c> until <paramref name="ready"/> holds (a request's measurements are recorded once its response
    /// is written, which the client may see first) or 2 seconds have passed; the last scrape's text.
    /// </summary>
    public static async Task<string> ScrapeAsync(HttpClient http, Func<string, bool>? ready = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (true)
        {
            using var response = await http.GetAsync(TelemetryExtensions.MetricsPath);
            response.EnsureSuccessStatusCode();
            var text = await response.Content.ReadAsStringAsync();
            if (ready is null || ready(text) || DateTime.UtcNow > deadline)
            {
                return text;
            }

            await Task.Delay(100);
        }
    }
}

internal sealed class SynchronizedCollection : System.Collections.ObjectModel.Collection<Activity>
{
    public new IList<Activity> Items => base.Items;

    protected override void InsertItem(int index, Activity item)
    {
        lock (this)
        {
            base.InsertItem(index, item);
        }
    }
}
