using System.Net;
using IdentityHost.Audit;

namespace IdentityHost.Tests.Audit;

/// <summary>Security events reach the audit trail and the metrics with the right family, reason and client.</summary>
public sealed class SecurityEventTests : IDisposable
{
    private const string Replays = "identityhost.refresh_token.replays";
    private const string FamiliesRevoked = "identityhost.token_families.revoked";
    private readonly IdentityHostFactory factory = new();

    [Fact]
    public async Task Replay_CountsOneReplay_AndWritesOneReplayEventWithTheFamilyId()
    {
        using var metrics = new MetricRecorder(factory);
        var client = factory.CreateTokenClient();
        var user = await factory.CreateUserAsync();
        var first = await client.PasswordAsync(username: user);
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(first.RefreshToken)).Status);

        Assert.Equal("invalid_grant", (await client.RefreshAsync(first.RefreshToken)).Error);

        var family = Assert.Single(await AuditTestKit.FamilyIdsAsync(factory, user));
        var rows = await AuditTestKit.RowsAsync(factory);
        var replay = Assert.Single(rows, row => row.Type.Contains("replay", StringComparison.Ordinal));
        Assert.Equal(AuditEventTypes.RefreshTokenReplayed.Name, replay.Type);
        Assert.Equal(AuditEventTypes.RefreshTokenReplayed.Id, replay.EventId);
        Assert.Equal(family, replay.FamilyId);
        Assert.Equal("postman", replay.ClientId);
        Assert.Equal(await AuditTestKit.UserIdAsync(factory, user), replay.Subject);
        var revoked = Assert.Single(rows, row => row.Type == AuditEventTypes.FamilyRevoked.Name);
        Assert.Equal(family, revoked.FamilyId);
        Assert.StartsWith("reason=replay ", revoked.Detail);
        Assert.Equal(family, Assert.Single(rows, row => row.Type == AuditEventTypes.FamilyCreated.Name && row.Subject == replay.Subject).FamilyId);

        Assert.Equal(1, metrics.Sum(Replays, ("client_id", "postman")));
        Assert.Equal(1, metrics.Sum(FamiliesRevoked, ("reason", "replay"), ("client_id", "postman")));
    }

    [Fact]
    public async Task ClientRevocation_WritesFamilyRevokedWithReasonRevocation()
    {
        using var metrics = new MetricRecorder(factory);
        var client = factory.CreateTokenClient();
        var user = await factory.CreateUserAsync();
        var tokens = await client.PasswordAsync(username: user);

        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(tokens.RefreshToken)).Status);

        var family = Assert.Single(await AuditTestKit.FamilyIdsAsync(factory, user));
        var revoked = Assert.Single(await AuditTestKit.RowsAsync(factory), row => row.Type == AuditEventTypes.FamilyRevoked.Name);
        Assert.Equal(family, revoked.FamilyId);
        Assert.Equal("postman", revoked.ClientId);
        Assert.StartsWith("reason=revocation ", revoked.Detail);
        Assert.Equal(1, metrics.Sum(FamiliesRevoked, ("reason", "revocation"), ("client_id", "postman")));
        Assert.Equal(0, metrics.Sum(Replays));
    }

    [Fact]
    public async Task AccessTokenRevocation_WritesTokenRevoked_AndEndsNoFamily()
    {
        var client = factory.CreateTokenClient();
        var user = await factory.CreateUserAsync();
        var tokens = await client.PasswordAsync(username: user);

        Assert.Equal(HttpStatusCode.OK, (await client.RevokeAsync(tokens.AccessToken)).Status);

        var rows = await AuditTestKit.RowsAsync(factory);
        var revoked = Assert.Single(rows, row => row.Type == AuditEventTypes.TokenRevoked.Name);
        Assert.Equal((Assert.Single(await AuditTestKit.FamilyIdsAsync(factory, user)), "postman"), (revoked.FamilyId, revoked.ClientId));
        Assert.Contains("token_type=access_token", revoked.Detail);
        Assert.DoesNotContain(rows, row => row.Type == AuditEventTypes.FamilyRevoked.Name);
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(tokens.RefreshToken)).Status);
    }

    [Fact]
    public async Task SignIns_AreCountedByPathAndOutcome_AndAuditedWithTheRequestsUserAgent()
    {
        using var metrics = new MetricRecorder(factory);
        var client = factory.CreateTokenClient();
        client.Http.DefaultRequestHeaders.UserAgent.ParseAdd("AuditTest/1.0");
        var user = await factory.CreateUserAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.PasswordAsync(username: user)).Status);
        Assert.Equal("invalid_grant", (await client.PasswordAsync(username: user, password: "wrong")).Error);

        Assert.Equal(1, metrics.Sum("identityhost.sign_ins", ("path", "password_grant"), ("outcome", "success")));
        Assert.Equal(1, metrics.Sum("identityhost.sign_ins", ("path", "password_grant"), ("outcome", "failure")));
        var subject = await AuditTestKit.UserIdAsync(factory, user);
        var rows = (await AuditTestKit.RowsAsync(factory)).Where(row => row.Subject == subject).ToList();
        Assert.Equal([AuditEventTypes.SignInSucceeded.Name, AuditEventTypes.FamilyCreated.Name, AuditEventTypes.SignInFailed.Name], rows.Select(row => row.Type));
        Assert.All(rows, row => Assert.Equal("AuditTest/1.0", row.UserAgent));
        Assert.Equal("path=password_grant reason=invalid_credentials", rows[2].Detail);
    }

    public void Dispose() => factory.Dispose();
}
