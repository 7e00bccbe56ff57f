using IdentityHost.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace IdentityHost.Tests.EngineGuards;

/// <summary>
/// Upgrade guards for the handlers IdentityHost puts into OpenIddict's pipeline (<see cref="EngineHandlers"/>). They fail,
/// naming what moved, when a new OpenIddict adds, removes, re-orders, re-filters or rewrites a handler of an event we
/// change. To accept a new engine: review each named change against ARCHITECTURE.md ('Upgrading OpenIddict'), then
/// re-record with <c>IDENTITYHOST_RECORD_ENGINE=1 dotnet test --filter PipelineGuardTests</c> and commit the file.
/// </summary>
public sealed class PipelineGuardTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public void EngineDefaults_ForTheEventsWeChange_AreTheOnesRecorded()
    {
        var path = RepositoryLayout.ProjectFolder(EnginePipeline.SnapshotFile);
        var actual = EnginePipeline.Describe(EnginePipeline.Defaults);
        if (Environment.GetEnvironmentVariable("IDENTITYHOST_RECORD_ENGINE") == "1")
        {
            File.WriteAllLines(path, [.. EnginePipeline.Header, .. actual]);
        }

        if (Environment.GetEnvironmentVariable("IDENTITYHOST_DUMP_ENGINE_IL") is { Length: > 0 } folder)
        {
            // For reviewing a change: each handler's normalised IL, to diff between two engine versions.
            Directory.CreateDirectory(folder);
            foreach (var handler in EnginePipeline.Defaults.Where(handler => EnginePipeline.ChangedEvents.Contains(handler.ContextType)))
            {
                File.WriteAllText(Path.Combine(folder, handler.ServiceDescriptor.ServiceType.Name + ".il"), IlFingerprint.Describe(handler.ServiceDescriptor.ServiceType));
            }
        }

        var recorded = File.ReadAllLines(path).Where(line => line.Length > 0 && !line.StartsWith('#')).ToList();

        Assert.True(EnginePipeline.Compare(recorded, actual) is null, EnginePipeline.Compare(recorded, actual));
    }

    [Fact]
    public void Compare_NamesAHandlerThatMovedOrAppeared()
    {
        // A planted change: ValidateTokenEntry re-ordered and a new handler slipped in before the status check.
        var recorded = EnginePipeline.Describe(EnginePipeline.Defaults);
        var validateTokenEntry = EnginePipeline.Line(Protection.ValidateTokenEntry.Descriptor);
        var planted = recorded.Select(line => line == validateTokenEntry ? line.Replace(" -2147371648 ", " -2147371000 ", StringComparison.Ordinal) : line)
            .Append("ValidateTokenContext -2147371700 OpenIddictServerHandlers.Protection.ValidateSomethingNew [] Scoped il:0")
            .ToList();

        var report = EnginePipeline.Compare(recorded, planted);

        Assert.NotNull(report);
        Assert.Contains("changed:  " + validateTokenEntry, report);
        Assert.Contains("added:    ValidateTokenContext -2147371700 OpenIddictServerHandlers.Protection.ValidateSomethingNew", report);
    }

    [Fact]
    public void RunningPipeline_HasEachReplacementInTheEnginesPlace_WithTheEnginesFilters()
    {
        var handlers = RunningHandlers();
        foreach (var change in EngineHandlers.Changes.Where(change => change.Replaces is not null))
        {
            var replaced = change.Replaces!;
            Assert.DoesNotContain(handlers, handler => handler.ServiceDescriptor.ServiceType == replaced.ServiceDescriptor.ServiceType);
            var ours = Assert.Single(handlers, handler => handler.ServiceDescriptor.ServiceType == change.Ours.ServiceDescriptor.ServiceType);
            Assert.Equal(replaced.Order, ours.Order);
            Assert.Equal(replaced.FilterTypes.ToArray(), ours.FilterTypes.ToArray());
            Assert.Equal(replaced.ContextType, ours.ContextType);
        }
    }

    [Fact]
    public void RunningPipeline_RunsEachInsertedHandlerRightAfterItsAnchor()
    {
        var handlers = RunningHandlers();
        foreach (var change in EngineHandlers.Changes.Where(change => change.RunsAfter is not null))
        {
            var anchor = Assert.Single(handlers, handler => handler.ServiceDescriptor.ServiceType == change.RunsAfter!.ServiceDescriptor.ServiceType);
            var ours = Assert.Single(handlers, handler => handler.ServiceDescriptor.ServiceType == change.Ours.ServiceDescriptor.ServiceType);
            var between = handlers.Where(handler => handler.ContextType == ours.ContextType && handler.Type == OpenIddictServerHandlerType.BuiltIn && handler.Order >= anchor.Order &&
                                                    handler.Order <= ours.Order && handler != anchor && handler != ours).ToList();
            Assert.True(between.Count == 0,
                $"{change.Name} must run right after {anchor.ServiceDescriptor.ServiceType.Name}, but the engine now also runs there: " +
                string.Join(", ", between.Select(handler => handler.ServiceDescriptor.ServiceType.Name)));
        }
    }

    [Fact]
    public void RunningPipeline_KeepsTheEnginesAuthorizationAndTokenChecksOn()
    {
        var options = factory.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue;
        var handlers = RunningHandlers();

        // Behind the status check, OpenIddict's own refusal of a token whose family (authorization) is revoked runs
        // (GHSA-cxgj-hwwh-855g is about that check being skipped); so do the claims mapping and entry look-up it needs.
        Type[] kept = [typeof(Protection.MapInternalClaims), typeof(Protection.RestoreTokenEntryProperties), typeof(Protection.ValidateAuthorizationEntry)];
        foreach (var type in kept)
        {
            Assert.Single(handlers, handler => handler.ServiceDescriptor.ServiceType == type);
        }

        var statusCheck = Assert.Single(handlers, handler => handler.ServiceDescriptor.ServiceType == typeof(TokenStatusCheck));
        Assert.True(statusCheck.Order < Protection.ValidateAuthorizationEntry.Descriptor.Order);
        Assert.False(options.DisableAuthorizationStorage);
        Assert.False(options.DisableTokenStorage);
        Assert.False(options.EnableDegradedMode);
    }

    private List<OpenIddictServerHandlerDescriptor> RunningHandlers() =>
        [.. factory.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.Handlers];
}
