using System.Net;
using IdentityHost.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Tags = IdentityHost.Telemetry.IdentityHostTelemetry.Tags;

namespace IdentityHost.Tests.Telemetry;

/// <summary>The token endpoint's metrics, read with a <see cref="MetricCollector{T}"/> on the server's own instruments.</summary>
public sealed class TokenMetricsTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private IdentityHostTelemetry Instruments => factory.Services.GetRequiredService<IdentityHostTelemetry>();

    [Fact]
    public async Task Refresh_CountsOneRotation_AndTheTokensIssuedByGrantClientAndType()
    {
        var client = factory.CreateTokenClient();
        var first = await client.PasswordAsync(scope: "openid offline_access api");
        using var issued = new MetricCollector<long>(Instruments.TokensIssued);
        using var rotations = new MetricCollector<long>(Instruments.RefreshRotations);

        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(first.RefreshToken)).Status);

        await rotations.WaitForMeasurementsAsync(1, Wait);
        var rotation = Assert.Single(rotations.GetMeasurementSnapshot());
        Assert.Equal(1, rotation.Value);
        Assert.Equal("postman", rotation.Tags[Tags.ClientId]);
        await issued.WaitForMeasurementsAsync(3, Wait);
        var types = issued.GetMeasurementSnapshot().Select(measurement =>
        {
            Assert.Equal("refresh_token", measurement.Tags[Tags.GrantType]);
            Assert.Equal("postman", measurement.Tags[Tags.ClientId]);
            return (string)measurement.Tags[Tags.TokenType]!;
        }).Order();
        Assert.Equal(["access_token", "id_token", "refresh_token"], types);
    }

    [Fact]
    public async Task PasswordGrant_CountsItsTokens_ButNoRotation()
    {
        using var issued = new MetricCollector<long>(Instruments.TokensIssued);
        using var rotations = new MetricCollector<long>(Instruments.RefreshRotations);

        Assert.Equal(HttpStatusCode.OK, (await factory.CreateTokenClient().PasswordAsync(scope: "offline_access api")).Status);

        await issued.WaitForMeasurementsAsync(2, Wait);
        Assert.All(issued.GetMeasurementSnapshot(), measurement => Assert.Equal("password", measurement.Tags[Tags.GrantType]));
        Assert.Empty(rotations.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task WrongClientSecret_CountsAFailureOfThatConfiguredClient_WithoutTheSecret()
    {
        const string wrongSecret = "not-the-postman-secret-4711";
        using var failures = new MetricCollector<long>(Instruments.ClientAuthenticationFailures);

        Assert.Equal("invalid_client", (await factory.CreateTokenClient().PasswordAsync(secret: wrongSecret)).Error);

        await failures.WaitForMeasurementsAsync(1, Wait);
        var failure = Assert.Single(failures.GetMeasurementSnapshot());
        Assert.Equal("postman", failure.Tags[Tags.ClientId]);
        Assert.Equal(ClientAuthenticationFailure.InvalidSecret, failure.Tags[Tags.Reason]);
        Assert.Equal(2, failure.Tags.Count);
        Assert.DoesNotContain(failure.Tags.Values, value => value is string text && (text.Contains(wrongSecret, StringComparison.Ordinal) || text.Contains("postman-secret", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task UnknownClientId_IsCountedAsUnknown_NotByTheNameItSent()
    {
        const string madeUp = "made-up-client-93817";
        using var failures = new MetricCollector<long>(Instruments.ClientAuthenticationFailures);
        using var durations = new MetricCollector<double>(Instruments.TokenEndpointDuration);

        Assert.Equal("invalid_client", (await factory.CreateTokenClient().ClientCredentialsAsync(clientId: madeUp, secret: "whatever")).Error);

        await failures.WaitForMeasurementsAsync(1, Wait);
        var failure = Assert.Single(failures.GetMeasurementSnapshot());
        Assert.Equal(IdentityHostTelemetry.UnknownClient, failure.Tags[Tags.ClientId]);
        Assert.Equal(ClientAuthenticationFailure.UnknownClient, failure.Tags[Tags.Reason]);
        await durations.WaitForMeasurementsAsync(1, Wait);
        Assert.DoesNotContain(durations.GetMeasurementSnapshot(), measurement => measurement.Tags.Values.Contains(madeUp));
    }

    [Fact]
    public async Task Duration_IsRecordedByGrantAndOutcome()
    {
        var client = factory.CreateTokenClient();
        using var durations = new MetricCollector<double>(Instruments.TokenEndpointDuration);

        Assert.Equal(HttpStatusCode.OK, (await client.ClientCredentialsAsync()).Status);
        Assert.Equal("invalid_grant", (await client.RefreshAsync("no-such-refresh-token")).Error);

        await durations.WaitForMeasurementsAsync(2, Wait);
        var outcomes = durations.GetMeasurementSnapshot()
            .Select(measurement => (measurement.Tags[Tags.GrantType], measurement.Tags[Tags.Outcome], measurement.Value > 0)).ToList();
        Assert.Contains(("client_credentials", "success", true), outcomes);
        Assert.Contains(("refresh_token", "invalid_grant", true), outcomes);
    }

    [Fact]
    public async Task MalformedDpopProof_CountsAProofFailure()
    {
        using var failures = new MetricCollector<long>(Instruments.DpopProofFailures);
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = "alice", ["password"] = TokenClient.Password, ["client_id"] = "web" }),
            Headers = { { "DPoP", "not-a-proof" } },
        };

        Assert.Equal("invalid_dpop_proof", (await factory.CreateTokenClient().SendAsync(request)).Error);

        var failure = Assert.Single(failures.GetMeasurementSnapshot());
        Assert.Equal(IdentityHostTelemetry.DpopFailure.Invalid, failure.Tags[Tags.Reason]);
    }
}
