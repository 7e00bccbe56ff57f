using System.Net;
using IdentityHost.Telemetry;
using IdentityHost.Tests.Abuse;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Policy = IdentityHost.Telemetry.IdentityHostTelemetry.RateLimitPolicy;

namespace IdentityHost.Tests.Telemetry;

/// <summary>Each rate limit's refusals are counted under its policy (limits of <see cref="RateLimitedHost"/>).</summary>
public sealed class RateLimitMetricsTests
{
    [Fact]
    public async Task PerIpLimit_CountsItsRefusal_AndTheDurationOutcomeIsSlowDown()
    {
        using var factory = RateLimitedHost.Create();
        var telemetry = factory.Services.GetRequiredService<IdentityHostTelemetry>();
        using var rejections = new MetricCollector<long>(telemetry.RateLimitRejections);
        using var durations = new MetricCollector<double>(telemetry.TokenEndpointDuration);
        var client = RateLimitedHost.From(factory, RateLimitedHost.NewIp());

        for (var request = 0; request < 3; request++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.ClientCredentialsAsync()).Status);
        }

        RateLimitedHost.AssertRateLimited(await client.ClientCredentialsAsync());

        var rejection = Assert.Single(rejections.GetMeasurementSnapshot());
        Assert.Equal(Policy.PerIp, rejection.Tags[IdentityHostTelemetry.Tags.Policy]);
        await durations.WaitForMeasurementsAsync(4, TimeSpan.FromSeconds(5));
        Assert.Single(durations.GetMeasurementSnapshot(), measurement => Equals(measurement.Tags[IdentityHostTelemetry.Tags.Outcome], "slow_down"));
    }

    [Fact]
    public async Task SignInAndClientBudgets_CountTheirRefusals()
    {
        using var factory = RateLimitedHost.Create();
        using var rejections = new MetricCollector<long>(factory.Services.GetRequiredService<IdentityHostTelemetry>().RateLimitRejections);

        // 2 password sign-ins per IP: the third from one address is refused.
        var signIns = RateLimitedHost.From(factory, RateLimitedHost.NewIp());
        for (var attempt = 0; attempt < 2; attempt++)
        {
            Assert.Equal("invalid_grant", (await signIns.PasswordAsync(password: "Wrong-1")).Error);
        }

        RateLimitedHost.AssertRateLimited(await signIns.PasswordAsync(password: "Wrong-1"));

        // 5 requests per confidential client, from addresses each under their own limit.
        for (var request = 0; request < 5; request++)
        {
            Assert.Equal(HttpStatusCode.OK, (await RateLimitedHost.From(factory, RateLimitedHost.NewIp()).ClientCredentialsAsync()).Status);
        }

        RateLimitedHost.AssertRateLimited(await RateLimitedHost.From(factory, RateLimitedHost.NewIp()).ClientCredentialsAsync());

        Assert.Equal([Policy.SignIn, Policy.PerClient],
            rejections.GetMeasurementSnapshot().Select(measurement => (string)measurement.Tags[IdentityHostTelemetry.Tags.Policy]!));
    }
}
