using System.Collections.Immutable;
using IdentityHost.Engine;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using OpenIddict.Server.DataProtection;

namespace IdentityHost.Tests.EngineGuards;

/// <summary>
/// What IdentityHost assumes about OpenIddict's server pipeline, written down: for every event whose handlers
/// <see cref="EngineHandlers"/> removes, replaces or inserts around, each default handler's order, type, filters,
/// lifetime and code fingerprint (<see cref="IlFingerprint"/>), one line each. The recorded copy is
/// <c>openiddict-server-pipeline.txt</c> beside this file; <see cref="Compare"/> names every line that moved.
/// </summary>
public static class EnginePipeline
{
    public const string SnapshotFile = "tests/IdentityHost.Tests/EngineGuards/openiddict-server-pipeline.txt";

    public static string[] Header { get; } =
    [
        $"# OpenIddict {typeof(OpenIddictServerHandlers).Assembly.GetName().Version?.ToString(3)} server pipeline, for the events IdentityHost changes (Engine/EngineHandlers).",
        "# Written by PipelineGuardTests with IDENTITYHOST_RECORD_ENGINE=1; see ARCHITECTURE.md, 'Upgrading OpenIddict'.",
    ];

    /// <summary>The events IdentityHost changes: those of every replaced handler and every anchor.</summary>
    public static IReadOnlySet<Type> ChangedEvents { get; } = EngineHandlers.Changes.Select(change => change.Ours.ContextType).ToHashSet();

    /// <summary>The running engine's default handlers (server, ASP.NET Core host, Data Protection) for <see cref="ChangedEvents"/>.</summary>
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> Defaults { get; } =
    [
        .. OpenIddictServerHandlers.DefaultHandlers,
        .. OpenIddictServerAspNetCoreHandlers.DefaultHandlers,
        .. OpenIddictServerDataProtectionHandlers.DefaultHandlers,
    ];

    public static IReadOnlyList<string> Describe(IEnumerable<OpenIddictServerHandlerDescriptor> handlers) => handlers
        .Where(descriptor => ChangedEvents.Contains(descriptor.ContextType))
        .Select(descriptor => (descriptor.ContextType.Name, descriptor.Order, Line: Line(descriptor)))
        // Handlers sharing an order run in no guaranteed order: sorted by name here, so the file is stable.
        .OrderBy(entry => entry.Name, StringComparer.Ordinal).ThenBy(entry => entry.Order).ThenBy(entry => entry.Line, StringComparer.Ordinal)
        .Select(entry => entry.Line)
        .ToList();

    public static string Line(OpenIddictServerHandlerDescriptor descriptor)
    {
        var handler = descriptor.ServiceDescriptor.ServiceType;
        var filters = string.Join(",", descriptor.FilterTypes.Select(Name).Order(StringComparer.Ordinal));
        return $"{descriptor.ContextType.Name} {descriptor.Order} {Name(handler)} [{filters}] {descriptor.ServiceDescriptor.Lifetime} il:{IlFingerprint.Of(handler)}";
    }

    /// <summary>Null when <paramref name="actual"/> is <paramref name="recorded"/>; otherwise what moved, line by line.</summary>
    public static string? Compare(IReadOnlyList<string> recorded, IReadOnlyList<string> actual)
    {
        var missing = recorded.Except(actual, StringComparer.Ordinal).ToList();
        var added = actual.Except(recorded, StringComparer.Ordinal).ToList();
        if (missing.Count == 0 && added.Count == 0)
        {
            return null;
        }

        static string Key(string line) => string.Join(' ', line.Split(' ').Where((_, index) => index is 0 or 2));
        var report = new List<string> { "OpenIddict's server pipeline changed under IdentityHost (see ARCHITECTURE.md, 'Upgrading OpenIddict'):" };
        foreach (var line in missing)
        {
            var now = added.FirstOrDefault(candidate => Key(candidate) == Key(line));
            report.Add(now is null ? $"  removed:  {line}" : $"  changed:  {line}\n        now {now}");
        }

        report.AddRange(added.Where(line => missing.All(old => Key(old) != Key(line))).Select(line => $"  added:    {line}"));
        return string.Join('\n', report);
    }

    private static string Name(Type type)
    {
        var name = type.FullName ?? type.Name;
        if (type.IsGenericType)
        {
            name = $"{type.GetGenericTypeDefinition().FullName}<{string.Join(",", type.GetGenericArguments().Select(argument => argument.Name))}>";
        }

        return name.Replace("OpenIddict.Server.", "", StringComparison.Ordinal).Replace('+', '.');
    }
}
