using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace SampleApi.Hosting;

public static class TelemetryExtensions
{
    /// <summary>
    /// OTLP export of ASP.NET Core and HttpClient traces and metrics (the calls to IdentityHost: discovery, JWKS,
    /// introspection) when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; otherwise nothing is registered.
    /// </summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return builder;
        }

        var serviceNameSet = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (!serviceNameSet)
                {
                    resource.AddService("SampleApi");
                }
            })
            .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddOtlpExporter())
            .WithMetrics(metrics => metrics.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddOtlpExporter());
        return builder;
    }
}
