using System.Text.Json;
using System.Text.RegularExpressions;

namespace IdentityHost.Tests.RealClients;

/// <summary>
/// The Postman collection users import (docs/postman) run by newman against IdentityHost and SampleApi as real
/// processes, so its requests and test scripts keep matching the servers.
/// </summary>
public sealed partial class PostmanCollectionTests
{
    private const string Newman = "newman";
    private const string InstallNewman = "npm install -g newman@6.2.2";

    [RequiresToolFact(Newman, InstallNewman)]
    public async Task Collection_RunByNewmanAgainstRealProcesses_PassesEveryTest()
    {
        var newman = ExternalTool.Require(Newman, InstallNewman);
        var collection = Path.Combine(RepositoryLayout.Root, "docs", "postman", "IdentityHost.postman_collection.json");
        var environment = Path.Combine(RepositoryLayout.Root, "docs", "postman", "IdentityHost.postman_environment.json");
        using var stack = await RunningStack.StartAsync();

        var run = await ExternalTool.RunAsync(newman,
        [
            "run", collection, "-e", environment,
            "--env-var", $"identityHost={stack.IdentityHostUrl}",
            "--env-var", $"sampleApi={stack.SampleApiUrl}",
            "--reporters", "cli", "--color", "off", "--timeout-request", "15000",
        ], TimeSpan.FromMinutes(2));

        var report = $"newman {(run.ExitCode is { } code ? $"exited with {code}" : "was killed after 2 minutes")}:\n{run.Output}\n{stack.Logs}";
        Assert.True(run.ExitCode == 0, report);
        var summary = SummaryRow().Matches(run.Output).ToDictionary(row => row.Groups["what"].Value, row => int.Parse(row.Groups["executed"].Value));
        Assert.True(summary.GetValueOrDefault("requests") == CountRequests(collection), $"not every request ran; {report}");
        Assert.True(summary.GetValueOrDefault("assertions") > 0, $"no assertion ran; {report}");
    }

    private static int CountRequests(string collection)
    {
        static int Count(JsonElement item) =>
            (item.TryGetProperty("request", out _) ? 1 : 0) +
            (item.TryGetProperty("item", out var children) ? children.EnumerateArray().Sum(Count) : 0);

        using var document = JsonDocument.Parse(File.ReadAllText(collection));
        return Count(document.RootElement);
    }

    // A row of newman's closing table: "│   requests │   18 │   0 │" (what, executed, failed).
    [GeneratedRegex(@"│\s*(?<what>[a-z-]+)\s*│\s*(?<executed>\d+)\s*│\s*(?<failed>\d+)\s*│")]
    private static partial Regex SummaryRow();
}
