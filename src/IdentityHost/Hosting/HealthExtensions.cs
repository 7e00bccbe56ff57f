using IdentityHost.Health;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IdentityHost.Hosting;

public static class HealthExtensions
{
    public const string BasePath = "/health";
    private const string ReadyTag = "ready";

    /// <summary>Readiness checks: the database answers and the keys are loaded.</summary>
    public static WebApplicationBuilder AddHealthProbes(this WebApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(5))
            .AddCheck<KeysHealthCheck>("keys", HealthStatus.Unhealthy, [ReadyTag]);
        return builder;
    }

    /// <summary>
    /// <c>/health/live</c>: the process answers, no dependency is checked (a failing database must not get the process
    /// restarted). <c>/health/ready</c>: 200 when every readiness check passes, else 503. Both JSON, uncached, anonymous
    /// and outside the rate limits.
    /// </summary>
    public static WebApplication MapHealthProbes(this WebApplication app)
    {
        app.MapHealthChecks(BasePath + "/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthReportWriter.WriteAsync });
        app.MapHealthChecks(BasePath + "/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = HealthReportWriter.WriteAsync });
        return app;
    }
}
