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

        // The proof mode docs/dpop.md gives curl: proofs signed with one key kept in a file, sent by another client.
        using var folder = new TestFolder();
        var keyFile = Path.Combine(folder.Path, "dpop-key.json");
        async Task<string> ProofAsync(params string[] arguments)
        {
            var proof = await ExternalTool.RunAsync("/usr/bin/env",
                ["DPOP_KEY_FILE=" + keyFile, node, Path.Combine(RepositoryLayout.Root, "docs", "dpop-client.mjs"), "proof", .. arguments], TimeSpan.FromSeconds(30));
            Assert.True(proof.ExitCode == 0, proof.Output);
            return proof.Output.Trim();
        }

        using var http = new HttpClient { BaseAddress = new Uri(stack.IdentityHostUrl + "/") };
        var tokenUrl = stack.IdentityHostUrl + "/connect/token";
        var tokens = await new TokenClient(http).TokenAsync(new()
        {
            ["grant_type"] = "password", ["username"] = "alice", ["password"] = TokenClient.Password, ["scope"] = "offline_access api",
        }, "web", null, await ProofAsync("POST", tokenUrl));
        Assert.Equal("DPoP", tokens["token_type"]);
        using var me = new HttpRequestMessage(HttpMethod.Get, stack.SampleApiUrl + "/api/me");
        me.Headers.TryAddWithoutValidation("Authorization", "DPoP " + tokens.AccessToken);
        me.Headers.TryAddWithoutValidation("DPoP", await ProofAsync("GET", stack.SampleApiUrl + "/api/me", tokens.AccessToken));
        using var answer = await http.SendAsync(me);
        Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
    }
}
