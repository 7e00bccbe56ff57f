namespace IdentityHost.Tests.Telemetry;

/// <summary>
/// Tests that assert what a <c>/metrics</c> scrape contains run alone, after the parallel tests. The OpenTelemetry SDK
/// listens to meters by name, so one server's provider also aggregates every other in-process server's
/// <c>IdentityHost</c> meter into the same streams; when another test's server is disposed, its meter's end marks those
/// shared streams finished and the SDK drops them from later scrapes. (One server per process, as in production, never
/// meets this.)
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScrapeCollection
{
    public const string Name = "Prometheus scrapes";
}
