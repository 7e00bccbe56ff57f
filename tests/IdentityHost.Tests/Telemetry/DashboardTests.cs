using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace IdentityHost.Tests.Telemetry;

/// <summary>
/// Every IdentityHost metric the Grafana dashboard (docs/observability/identityhost-dashboard.json) queries exists in
/// a real <c>/metrics</c> scrape, once the events behind each panel have happened.
/// </summary>
[Collection(ScrapeCollection.Name)]
public sealed partial class DashboardTests
{
    private const string DashboardFile = "docs/observability/identityhost-dashboard.json";

    [Fact]
    public async Task EveryMetricTheDashboardQueries_IsInTheScrape_OnceItsEventsHappened()
    {
        var queried = QueriedMetricNames();
        Assert.True(queried.Count >= 9, "The dashboard should query IdentityHost's metrics: " + string.Join(", ", queried));
        using var factory = new IdentityHostFactory
        {
            Settings =
            {
                ["IdentityHost:RateLimits:Enabled"] = "true",
                ["IdentityHost:RateLimits:Login:PerUser:PermitLimit"] = "2",
                ["IdentityHost:RateLimits:Login:PerUser:Window"] = "01:00:00",
            },
        };
        var client = factory.CreateTokenClient();

        // A sign-in, a refresh, a replay of the spent token (its family is revoked), a revocation.
        var first = await client.PasswordAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(first.RefreshToken)).Status);
        Assert.Equal("invalid_grant", (await client.RefreshAsync(first.RefreshToken)).Error);
        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync((await client.PasswordAsync(username: "bob")).RefreshToken)).Status);

        // Failures: a wrong client secret, a wrong password, a malformed DPoP proof, a sign-in over its budget.
        Assert.Equal("invalid_client", (await client.PasswordAsync(secret: "not-the-postman-secret")).Error);
        Assert.Equal("invalid_grant", (await client.PasswordAsync(username: "alice", password: "Wrong-Password-1")).Error);
        using var dpop = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "api" }),
            Headers = { { "DPoP", "not-a-proof" }, { "Authorization", "Basic " + Convert.ToBase64String("service:service-secret"u8.ToArray()) } },
        };
        Assert.Equal("invalid_dpop_proof", (await client.SendAsync(dpop)).Error);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            Assert.Equal("invalid_grant", (await client.PasswordAsync(username: "nobody", password: "x")).Error);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PasswordAsync(username: "nobody", password: "x")).Status);

        var scrape = await TelemetryCapture.ScrapeAsync(factory.CreateClient(), text => queried.All(name => Exposes(text, name)));

        var missing = queried.Where(name => !Exposes(scrape, name)).ToList();
        Assert.True(missing.Count == 0, "Queried by the dashboard but not in /metrics: " + string.Join(", ", missing) +
            "\nIdentityHost metrics scraped: " + string.Join(", ", ExposedNames(scrape)));
    }

    /// <summary>Every <c>identityhost_*</c> name in the PromQL of every panel's targets.</summary>
    internal static List<string> QueriedMetricNames()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(RepositoryLayout.ProjectFolder(DashboardFile)));
        return [.. json.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.TryGetProperty("targets", out var targets) ? targets.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Select(target => target.GetProperty("expr").GetString()!)
            .SelectMany(expr => MetricName().Matches(expr).Select(match => match.Value))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];
    }

    private static bool Exposes(string scrape, string name) =>
        scrape.Split('\n').Any(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal));

    private static IEnumerable<string> ExposedNames(string scrape) =>
        scrape.Split('\n').Where(line => line.StartsWith("identityhost_", StringComparison.Ordinal)).Select(line => line.Split('{', ' ')[0]).Distinct();

    [GeneratedRegex(@"\bidentityhost_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
