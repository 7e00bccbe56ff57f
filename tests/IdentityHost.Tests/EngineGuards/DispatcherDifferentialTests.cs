using System.Collections.Concurrent;
using IdentityHost.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace IdentityHost.Tests.EngineGuards;

/// <summary>
/// Upgrade guard for <see cref="PlannedServerDispatcher"/> (ARCHITECTURE.md, "Engine replacements"): the same requests,
/// sent to a server dispatching with OpenIddict's own <see cref="OpenIddictServerDispatcher"/> and to one dispatching
/// with ours, must run exactly the same handlers in the same order, stopping at the same place. Both dispatchers
/// report each handler they ran through the same log templates at Debug (OpenIddict's ID6133–6136), recorded here. A
/// new engine version that changes how dispatching works (a new kind of filter, a new way to stop) fails here, naming
/// the first event where the two differ.
/// </summary>
public sealed class DispatcherDifferentialTests
{
    [Fact]
    public async Task PlannedDispatcher_RunsTheSameHandlersAsOpenIddicts_ForEveryKindOfRequest()
    {
        var engine = await RunScenarioAsync(ours: false);
        var planned = await RunScenarioAsync(ours: true);

        Assert.True(engine.Count > 300, $"only {engine.Count} handler runs were recorded: the recording no longer sees OpenIddict's dispatcher");
        var first = Enumerable.Range(0, Math.Min(engine.Count, planned.Count)).FirstOrDefault(index => engine[index] != planned[index], -1);
        Assert.True(first < 0 && engine.Count == planned.Count,
            first < 0
                ? $"OpenIddict's dispatcher ran {engine.Count} handlers, ours {planned.Count}"
                : $"the dispatchers differ at run {first}:\n  OpenIddict: {engine[first]}\n  ours:       {planned[first]}");
    }

    [Fact]
    public void ThePlan_ListsEachEventsHandlersInTheEnginesOrder()
    {
        using var factory = new IdentityHostFactory();
        _ = factory.Server;
        var options = factory.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        var plan = factory.Services.GetRequiredService<ServerDispatchPlan>();

        var planned = plan.For<OpenIddictServerEvents.ProcessSignInContext>().Select(step => step.Descriptor).ToList();

        Assert.Equal(options.Handlers.Where(descriptor => descriptor.ContextType == typeof(OpenIddictServerEvents.ProcessSignInContext)), planned);
    }

    /// <summary>Every kind of request the test suite sends, good and bad, through one dispatcher; the handlers it ran.</summary>
    private static async Task<List<string>> RunScenarioAsync(bool ours)
    {
        var recorder = new Recorder();
        using var factory = new IdentityHostFactory
        {
            ServiceOverrides = services => services.Replace(ours
                ? ServiceDescriptor.Scoped<IOpenIddictServerDispatcher>(provider =>
                    new PlannedServerDispatcher(recorder, provider.GetRequiredService<ServerDispatchPlan>(), provider))
                : ServiceDescriptor.Scoped<IOpenIddictServerDispatcher>(provider =>
                    new OpenIddictServerDispatcher(recorder, provider.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>(), provider))),
        };
        var client = factory.CreateTokenClient();
        var http = factory.CreateClient(new() { AllowAutoRedirect = false });

        Answer((await http.GetAsync(".well-known/openid-configuration")).StatusCode);
        Answer((await http.GetAsync(".well-known/jwks")).StatusCode);
        var user = await factory.CreateUserAsync();
        var tokens = await client.PasswordAsync(username: user, scope: "openid offline_access api");
        Answer(tokens.Status);
        var refreshed = await client.RefreshAsync(tokens.RefreshToken);
        Answer(refreshed.Status);
        await client.IntrospectAsync(refreshed.AccessToken);
        await client.IntrospectAsync(refreshed.RefreshToken, "postman", "postman-secret");
        using (var userInfo = new HttpRequestMessage(HttpMethod.Get, "connect/userinfo") { Headers = { Authorization = new("Bearer", refreshed.AccessToken) } })
        {
            await client.SendAsync(userInfo);
        }

        await client.RevokeAsync(refreshed.AccessToken);
        Answer((await client.RefreshAsync(tokens.RefreshToken)).Error); // replay: the family ends
        await client.RevokeAsync(refreshed.RefreshToken);
        await client.ClientCredentialsAsync();
        Answer((await client.ClientCredentialsAsync(secret: "wrong")).Error);
        Answer((await client.PasswordAsync(username: user, password: "wrong")).Error);
        Answer((await client.TokenAsync(new() { ["grant_type"] = "nonsense" }, "postman", "postman-secret")).Error);
        using (var key = new DpopKey { Now = factory.Time.GetUtcNow() })
        {
            await client.DpopPasswordAsync(await factory.CreateUserAsync(), key.Proof());
            await client.TokenAsync(new() { ["grant_type"] = "client_credentials", ["scope"] = "api" }, "service", "service-secret", "not-a-proof");
        }

        await http.GetAsync("connect/authorize?client_id=spa&response_type=code&scope=openid&redirect_uri=http%3A%2F%2Flocalhost%3A5173%2Fcallback.html&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256");
        await http.GetAsync("connect/authorize?client_id=nobody&response_type=code");
        await http.GetAsync("connect/endsession");
        return [.. recorder.Lines];

        // What the client saw is part of the sequence: a difference shows where it began, not as a failed request.
        void Answer(object? answer) => recorder.Lines.Enqueue($"-- answer: {answer}");
    }

    /// <summary>Both dispatchers' Debug lines about the handlers they ran (nothing else of theirs is logged).</summary>
    private sealed class Recorder : ILogger<OpenIddictServerDispatcher>
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Debug)
            {
                Lines.Enqueue(formatter(state, exception));
            }
        }
    }
}
