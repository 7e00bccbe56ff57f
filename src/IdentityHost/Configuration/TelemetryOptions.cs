using Microsoft.Extensions.Options;

namespace IdentityHost.Configuration;

/// <summary>
/// Metrics and traces export, bound from <c>IdentityHost:Telemetry</c> (docs/observability.md). OTLP export needs no
/// setting here: it is on when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. With neither OTLP nor
/// <see cref="Prometheus"/>, no OpenTelemetry provider is registered at all.
/// </summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "IdentityHost:Telemetry";

    /// <summary>
    /// Whether <c>GET /metrics</c> answers in the Prometheus text format. Defaults to false; true in Development
    /// (appsettings.Development.json). Keep it off the public internet: see <see cref="PrometheusPort"/>.
    /// </summary>
    public bool Prometheus { get; set; }

    /// <summary>
    /// When set, <c>/metrics</c> answers only on connections to this local port (add it to Kestrel's URLs, e.g.
    /// <c>http://127.0.0.1:9464</c>, and do not publish it); on every other port it is a 404. The local port of the
    /// connection is checked, not the Host header a client chooses. Defaults to none: every port.
    /// </summary>
    public int? PrometheusPort { get; set; }
}

/// <summary>Checks <see cref="TelemetryOptions"/>; messages name the setting path.</summary>
public sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options) =>
        options.PrometheusPort is { } port && (port < 1 || port > 65535)
            ? ValidateOptionsResult.Fail($"{TelemetryOptions.SectionName}:PrometheusPort must be a TCP port between 1 and 65535 (it was {port}).")
            : ValidateOptionsResult.Success;
}
