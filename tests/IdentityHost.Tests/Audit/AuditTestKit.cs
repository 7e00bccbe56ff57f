using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using IdentityHost.Audit;
using IdentityHost.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace IdentityHost.Tests.Audit;

/// <summary>Reading the audit trail, running the commands in process and listening to one server's meter.</summary>
internal static class AuditTestKit
{
    /// <summary>Every audit row, once the queue is flushed.</summary>
    public static async Task<List<AuditEvent>> RowsAsync(IdentityHostFactory factory)
    {
        await factory.Services.GetRequiredService<AuditTrail>().FlushAsync();
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ApplicationDbContext>().AuditEvents.AsNoTracking().OrderBy(row => row.Id).ToListAsync();
    }

    /// <summary>Every audit row as one line of text (all columns), for secret scans.</summary>
    public static async Task<List<string>> RowTextsAsync(IdentityHostFactory factory) =>
        (await RowsAsync(factory)).Select(row => string.Join(" | ", row.Time.ToString("O"), row.Type, row.EventId, row.ClientId, row.Subject,
            row.FamilyId, row.SessionId, row.Ip, row.UserAgent, row.Detail)).ToList();

    public static async Task<string> UserIdAsync(IdentityHostFactory factory, string userName)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<ApplicationUser>>();
        return (await users.FindByNameAsync(userName))!.Id;
    }

    /// <summary>The ids of the user's token families (authorizations), oldest first.</summary>
    public static async Task<List<string>> FamilyIdsAsync(IdentityHostFactory factory, string userName)
    {
        var subject = await UserIdAsync(factory, userName);
        await using var scope = factory.Services.CreateAsyncScope();
        var authorizations = scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
        var found = new List<(string Id, DateTimeOffset? Created)>();
        await foreach (var authorization in authorizations.FindBySubjectAsync(subject))
        {
            found.Add((await authorizations.GetIdAsync(authorization) ?? "", await authorizations.GetCreationDateAsync(authorization)));
        }

        return found.OrderBy(family => family.Created).Select(family => family.Id).ToList();
    }

    /// <summary>Runs a command's entry point in its own scope, as the command line does, capturing its output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        IdentityHostFactory factory, Func<IServiceProvider, TextWriter, TextWriter, Task<int>> command)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await command(scope.ServiceProvider, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }
}

/// <summary>Measurements of the <c>IdentityHost</c> meter of one server (other servers in the same test run are ignored).</summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener listener = new();

    public MetricRecorder(IdentityHostFactory factory)
    {
        var meters = factory.Services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, listening) =>
        {
            if (instrument.Meter.Name == global::IdentityHost.Telemetry.IdentityHostTelemetry.Name && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                listening.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            Measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(tag => tag.Key, tag => tag.Value?.ToString()))));
        listener.Start();
    }

    public ConcurrentBag<(string Instrument, long Value, Dictionary<string, string?> Tags)> Measurements { get; } = [];

    /// <summary>The sum of <paramref name="instrument"/> over measurements carrying every tag in <paramref name="tags"/>.</summary>
    public long Sum(string instrument, params (string Key, string Value)[] tags) =>
        Measurements.Where(measurement => measurement.Instrument == instrument &&
                tags.All(tag => measurement.Tags.TryGetValue(tag.Key, out var value) && value == tag.Value))
            .Sum(measurement => measurement.Value);

    public void Dispose() => listener.Dispose();
}
