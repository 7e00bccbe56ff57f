using System.Diagnostics;
using System.Net;
using IdentityHost.Hosting;
using IdentityHost.Telemetry;

namespace IdentityHost.Tests.Telemetry;

/// <summary>Spans of a refresh, with tracing on as an operator turns it on (OTLP), collected in memory.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task Refresh_TracesTheTokenRequest_ClientAuthentication_StoreReads_AndTheRotation()
    {
        var capture = new TelemetryCapture();
        using var factory = new IdentityHostFactory { Settings = new(TelemetryCapture.TracingSettings), ServiceOverrides = capture.AddInMemoryExporter };
        var first = await factory.CreateTokenClient().PasswordAsync();

        // The trace is this test's own (spans of other tests' servers in this process reach the capture too).
        var traceId = ActivityTraceId.CreateRandom();
        var http = factory.CreateClient();
        http.DefaultRequestHeaders.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        Assert.Equal(HttpStatusCode.OK, (await new TokenClient(http).RefreshAsync(first.RefreshToken)).Status);

        var request = await WaitForAsync(capture, span => span.TraceId == traceId && span.DisplayName == TokenEndpointTelemetry.TokenRequestSpan);
        Assert.Equal("refresh_token", request.GetTagItem(IdentityHostTelemetry.Tags.GrantType));
        Assert.Equal("postman", request.GetTagItem(IdentityHostTelemetry.Tags.ClientId));
        Assert.Equal("success", request.GetTagItem(IdentityHostTelemetry.Tags.Outcome));
        var children = capture.Finished().Where(span => span.TraceId == request.TraceId).Select(span => span.DisplayName).ToList();
        Assert.Contains("identityhost.client_authentication", children);
        Assert.Contains("identityhost.token_store.read", children);
        Assert.Contains("identityhost.authorization_store.read", children);
        Assert.Contains("identityhost.rotation", children);

        // The ASP.NET Core request span is the parent of ours. It ends after ours (once the response is written), so
        // it may reach the capture a moment later.
        var server = await WaitForAsync(capture, span => span.SpanId == request.ParentSpanId);
        Assert.Single(capture.Finished(), span => span.SpanId == request.ParentSpanId);
        Assert.Equal(ActivityKind.Server, server.Kind);
    }

    private static async Task<Activity> WaitForAsync(TelemetryCapture capture, Func<Activity, bool> match)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if (capture.Finished().FirstOrDefault(match) is { } span)
            {
                return span;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("No such span among: " + string.Join(", ", capture.Finished().Select(span => span.DisplayName)));
    }
}
