using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IdentityHost.Health;

/// <summary>
/// <c>{"status":"Healthy","durationMs":1.2,"checks":{"database":{"status":"Healthy","description":"…","durationMs":0.9}}}</c>.
/// Exception details stay in the log: the probes need no authentication.
/// </summary>
public static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            durationMs = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(entry => entry.Key, entry => new
            {
                status = entry.Value.Status.ToString(),
                description = entry.Value.Exception is null ? entry.Value.Description : "The check failed; see the server log.",
                durationMs = Math.Round(entry.Value.Duration.TotalMilliseconds, 1),
            }, StringComparer.Ordinal),
        };
        return JsonSerializer.SerializeAsync(context.Response.Body, body, cancellationToken: context.RequestAborted);
    }
}
