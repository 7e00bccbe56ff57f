using IdentityHost.Configuration;
using IdentityHost.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace IdentityHost.Hosting;

/// <summary>
/// Export of IdentityHost's metrics and traces (<see cref="IdentityHostTelemetry"/>) with the OpenTelemetry SDK: OTLP
/// (metrics and traces) when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, a Prometheus scrape endpoint at
/// <c>/metrics</c> when <see cref="TelemetryOptions.Prometheus"/> is on. With neither, no provider is registered: the
/// instruments stay unobserved and cost a few field reads (docs/observability.md).
/// </summary>
public static class TelemetryExtensions
{
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string MetricsPath = "/metrics";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var section = builder.Configuration.GetSection(TelemetryOptions.SectionName);
        services.AddOptions<TelemetryOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();

        // Whether to register the SDK is decided now, so the settings are checked now too.
        var settings = section.Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (new TelemetryOptionsValidator().Validate(null, settings) is { Failed: true } invalid)
        {
            throw new OptionsValidationException(TelemetryOptions.SectionName, typeof(TelemetryOptions), invalid.Failures);
        }

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        if (!otlp && !settings.Prometheus)
        {
            return builder;
        }

        var serviceNameSet = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]);
        var sdk = services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (!serviceNameSet)
                {
                    resource.AddService(IdentityHostTelemetry.Name);
                }
            })
            .WithMetrics(metrics =>
            {
                // ASP.NET Core's request duration and Kestrel's connections; not its per-request routing, authentication,
                // authorization and Identity meters, which cost the token endpoint more than they tell (bench/README.md).
                metrics.AddMeter(IdentityHostTelemetry.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                    .AddNpgsqlInstrumentation();
                if (settings.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });

        // Traces have no pull exporter: only with OTLP.
        if (otlp)
        {
            sdk.WithTracing(tracing => tracing.AddSource(IdentityHostTelemetry.Name)
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !context.Request.Path.StartsWithSegments(MetricsPath))
                .AddNpgsql()
                .AddOtlpExporter());
        }

        return builder;
    }

    /// <summary>
    /// <c>/metrics</c> (when on), answered before CORS, rate limits and authentication; then the token endpoint's
    /// measurements (<see cref="TokenEndpointTelemetry"/>) around everything else.
    /// </summary>
    public static WebApplication UseTelemetry(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (settings.Prometheus)
        {
            var port = settings.PrometheusPort;
            app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
                context.Request.Path == MetricsPath && (port is null || context.Connection.LocalPort == port));
        }

        app.UseMiddleware<TokenEndpointTelemetry>();
        return app;
    }
}
