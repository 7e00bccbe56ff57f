using System.Net;
using System.Text.Json;

namespace IdentityHost.Tests.Hosting;

/// <summary>Outside Development the console carries one compact JSON object per line (a real process, as deployed).</summary>
public sealed class JsonLogTests
{
    [Fact]
    public async Task Production_WritesEveryConsoleLineAsJson()
    {
        using var folder = new TestFolder();
        using var server = ServerProcess.Start("IdentityHost", Environment(folder));

        var address = await WaitForAsync(server, events => events
            .Where(e => e.TryGetProperty("address", out _))
            .Select(e => e.GetProperty("address").GetString())
            .FirstOrDefault());
        using var http = new HttpClient { BaseAddress = new Uri(address!) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/.well-known/openid-configuration")).StatusCode); // HTTPS only
        var request = await WaitForAsync(server, events => events.FirstOrDefault(e =>
            e.TryGetProperty("RequestPath", out var path) && path.GetString() == "/.well-known/openid-configuration") is { ValueKind: JsonValueKind.Object } found ? found : (JsonElement?)null);
        var output = server.Output;

        Assert.Equal(400, request!.Value.GetProperty("StatusCode").GetInt32());
        Assert.True(request.Value.TryGetProperty("@t", out _));
        Assert.True(request.Value.TryGetProperty("@m", out _));
        Assert.All(Lines(output), line => JsonDocument.Parse(line));
        Assert.DoesNotContain(ParseAll(output), e => e.TryGetProperty("RequestPath", out var path) && path.GetString()!.StartsWith("/health", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Production_StartupFailure_IsLoggedAsJson()
    {
        using var folder = new TestFolder();
        var environment = Environment(folder);
        environment["IdentityHost__AccessTokenLifetime"] = "-00:00:05";
        using var server = ServerProcess.Start("IdentityHost", environment);

        Assert.Equal(1, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var events = ParseAll(server.StandardOutput);
        Assert.All(Lines(server.StandardOutput), line => JsonDocument.Parse(line));
        Assert.Contains(events, e => e.TryGetProperty("@l", out var level) && level.GetString() == "Fatal" &&
            e.GetProperty("@m").GetString()!.Contains("IdentityHost:AccessTokenLifetime must be positive", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.TryGetProperty("@x", out _)); // a configuration problem is a line, not a stack trace

        // Standard error: the problem alone, for an operator reading the terminal or the orchestrator's event.
        Assert.Equal(["IdentityHost:AccessTokenLifetime must be positive."], Lines(server.ErrorOutput));
    }

    private static Dictionary<string, string?> Environment(TestFolder folder) => new(StringComparer.Ordinal)
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        ["ConnectionStrings__IdentityHost"] = $"Data Source={Path.Combine(folder.Path, "identityhost.db")}",
        ["IdentityHost__KeysPath"] = folder.KeysPath,
    };

    private static async Task<T?> WaitForAsync<T>(ServerProcess server, Func<List<JsonElement>, T?> find)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!deadline.IsCancellationRequested)
        {
            if (find(ParseAll(server.Output)) is { } found)
            {
                return found;
            }

            Assert.False(server.HasExited, "IdentityHost exited:\n" + server.Output);
            await Task.Delay(100);
        }

        throw new TimeoutException("IdentityHost did not log the expected event:\n" + server.Output);
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Every line that parses; a line that does not fails the final assertion of the test that reads it.</summary>
    private static List<JsonElement> ParseAll(string output) => Lines(output)
        .Select(line =>
        {
            try
            {
                return JsonDocument.Parse(line).RootElement.Clone();
            }
            catch (JsonException)
            {
                return default;
            }
        })
        .Where(e => e.ValueKind == JsonValueKind.Object)
        .ToList();
}
