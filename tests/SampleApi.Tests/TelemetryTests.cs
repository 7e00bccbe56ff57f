using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SampleApi.Tests.Infrastructure;

namespace SampleApi.Tests;

/// <summary>The API exports traces and metrics over OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public void OtlpEndpointSet_RegistersTracingAndMetrics()
    {
        using var identityHost = new IdentityHostFactory();
        using var api = new SampleApiFactory(identityHost)
        {
            Settings = { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9", ["OTEL_EXPORTER_OTLP_TIMEOUT"] = "200" },
        };

        Assert.NotNull(api.Services.GetService<TracerProvider>());
        Assert.NotNull(api.Services.GetService<MeterProvider>());
    }

    [Fact]
    public void NothingSet_RegistersNoProvider()
    {
        using var identityHost = new IdentityHostFactory();
        using var api = new SampleApiFactory(identityHost);

        Assert.Null(api.Services.GetService<TracerProvider>());
        Assert.Null(api.Services.GetService<MeterProvider>());
    }
}
