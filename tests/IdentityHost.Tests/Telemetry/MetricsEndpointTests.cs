using System.Net;
using IdentityHost.Configuration;
using IdentityHost.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace IdentityHost.Tests.Telemetry;

/// <summary><c>GET /metrics</c> (contract, "Observability") and what is registered when nothing is exported.</summary>
[Collection(ScrapeCollection.Name)]
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Metrics_InDevelopment_AnswersPrometheusText_WithIdentityHostNames()
    {
        using var factory = new IdentityHostFactory();
        var client = factory.CreateTokenClient();
        Assert.Equal(HttpStatusCode.OK, (await client.PasswordAsync()).Status);

        using var response = await factory.CreateClient().GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await TelemetryCapture.ScrapeAsync(factory.CreateClient(), text => text.Contains("identityhost_tokens_issued_total{", StringComparison.Ordinal));
        Assert.Contains("# TYPE identityhost_tokens_issued_total counter", text);
        Assert.Contains("grant_type=\"password\"", text);
        Assert.Contains("identityhost_token_endpoint_duration_seconds_bucket{", text);
    }

    [Fact]
    public async Task Metrics_AfterAWrongClientSecret_NameTheClientAndReason_NeverTheSecret()
    {
        const string wrongSecret = "not-the-postman-secret-4711";
        using var factory = new IdentityHostFactory();
        Assert.Equal("invalid_client", (await factory.CreateTokenClient().PasswordAsync(secret: wrongSecret)).Error);

        var scrape = await TelemetryCapture.ScrapeAsync(factory.CreateClient(), text => text.Contains("reason=\"invalid_secret\"", StringComparison.Ordinal));

        Assert.Contains("identityhost_client_authentication_failures_total{otel_scope_name=\"IdentityHost\",client_id=\"postman\",reason=\"invalid_secret\"} 1", scrape);
        Assert.DoesNotContain(wrongSecret, scrape);
        Assert.DoesNotContain("postman-secret", scrape);
    }

    [Fact]
    public async Task Metrics_WhenTheSettingIsOff_Is404_AndNoProviderIsRegistered()
    {
        using var factory = new IdentityHostFactory { Settings = { ["IdentityHost:Telemetry:Prometheus"] = "false" } };

        using var response = await factory.CreateClient().GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(factory.Services.GetService<MeterProvider>());
        Assert.Null(factory.Services.GetService<TracerProvider>());
    }

    [Fact]
    public async Task Metrics_WithAPrometheusPort_IsNotServedOnOtherPorts()
    {
        // The in-memory server's connections have local port 0: not the metrics port.
        using var factory = new IdentityHostFactory { Settings = { ["IdentityHost:Telemetry:PrometheusPort"] = "9464" } };

        using var response = await factory.CreateClient().GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public void PrometheusPort_OutOfRange_StopsStartupWithOneLineNamingTheSetting()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["IdentityHost:Telemetry:PrometheusPort"] = "70000";

        var error = Assert.Throws<OptionsValidationException>(() => builder.AddTelemetry());

        var problem = Assert.Single(StartupFailure.Problems(error)!);
        Assert.StartsWith($"{TelemetryOptions.SectionName}:PrometheusPort must be a TCP port between 1 and 65535", problem);
    }

    [Fact]
    public void OtlpEndpoint_RegistersTracingAndMetrics_EvenWithPrometheusOff()
    {
        using var factory = new IdentityHostFactory { Settings = new(TelemetryCapture.TracingSettings) { ["IdentityHost:Telemetry:Prometheus"] = "false" } };

        Assert.NotNull(factory.Services.GetService<MeterProvider>());
        Assert.NotNull(factory.Services.GetService<TracerProvider>());
    }
}
