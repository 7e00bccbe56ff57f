namespace IdentityHost.Tests.RealClients;

/// <summary>docs/dpop-client.mjs, the Node.js example of docs/dpop.md, run against IdentityHost and SampleApi as real processes.</summary>
public sealed class DpopNodeClientTests
{
    private const string Node = "node";
    private const string InstallNode = "apt-get install -y nodejs";

    [RequiresToolFact(Node, InstallNode)]
    public async Task NodeExample_SignsInCallsTheApiAndRefreshes_WithDpop()
    {
        var node = ExternalTool.Require(Node, InstallNode);
        using var stack = await RunningStack.StartAsync();

        var run = await ExternalTool.RunAsync(node,
            [Path.Combine(RepositoryLayout.Root, "docs", "dpop-client.mjs"), stack.IdentityHostUrl, stack.SampleApiUrl], TimeSpan.FromMinutes(1));

        Assert.True(run.ExitCode == 0, $"node exited with {run.ExitCode}:\n{run.Output}\n{stack.Logs}");
        Assert.Contains("\"token_type\": \"DPoP\"", run.Output);
    }
}
