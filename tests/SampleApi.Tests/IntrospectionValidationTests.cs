using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SampleApi.Tests.Infrastructure;

namespace SampleApi.Tests;

/// <summary>
/// <c>SampleApi:Validation = Introspection</c>: every token is checked at the in-memory IdentityHost's introspection
/// endpoint (as client <c>sample-api</c>), then judged like a JWT in Jwt mode (issuer, audience, exp/nbf with clock
/// skew); the 200, 401 and 403 answers are those of Jwt mode, and a failing back channel is a 401, never a 500.
/// </summary>
public sealed class IntrospectionValidationTests : IDisposable
{
    private readonly IdentityHostFactory identityHost = new();
    private readonly TokenClient tokens;

    public IntrospectionValidationTests() => tokens = identityHost.CreateTokenClient();

    [Fact]
    public async Task Me_ValidToken_Returns200WithCallerClaims()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);
        var accessToken = (await tokens.PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(Jwt.Payload(accessToken).GetProperty("sub").GetString(), body.GetProperty("sub").GetString());
        Assert.Equal("postman", body.GetProperty("client_id").GetString());
        Assert.Contains("api", body.GetProperty("scope").GetString()!.Split(' '));
        Assert.Equal("sample-api", body.GetProperty("aud").GetString());
        Assert.Equal(Jwt.Payload(accessToken).GetProperty("exp").GetInt64(), body.GetProperty("exp").GetInt64());
    }

    [Fact]
    public async Task Me_ClientCredentialsToken_Returns200()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);
        var accessToken = (await tokens.ClientCredentialsAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Me_NoToken_Returns401BearerChallenge()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);

        using var response = await api.CreateClient().GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().ToString());
    }

    [Fact]
    public async Task Me_TokenForTheApiWithoutApiScope_Returns403InsufficientScope()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);
        var accessToken = (await tokens.PasswordAsync(scope: "openid api.write")).AccessToken;
        Assert.Equal("sample-api", Jwt.Payload(accessToken).GetProperty("aud").GetString());

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.Single().ToString();
        Assert.Contains("error=\"insufficient_scope\"", challenge);
        Assert.Contains("scope=\"api\"", challenge);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Me_IdentityHostUnreachableOrFailing_Returns401IntrospectionFailed(bool connectionRefused)
    {
        var accessToken = (await tokens.PasswordAsync()).AccessToken;
        using var api = SampleApiFactory.Introspecting(identityHost, backchannel: () => new StubHandler(_ => connectionRefused
            ? throw new HttpRequestException("Connection refused")
            : new HttpResponseMessage(HttpStatusCode.InternalServerError)));

        using var response = await api.GetMeAsync(accessToken);

        BearerAssert.InvalidToken(response, "introspection failed");
    }

    [Fact]
    public async Task Me_WrongClientSecret_Returns401IntrospectionFailed()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);
        api.Settings["SampleApi:ClientSecret"] = "wrong-secret";
        var accessToken = (await tokens.PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        BearerAssert.InvalidToken(response, "introspection failed");
    }

    [Fact]
    public async Task Me_TokenExpiredAtIdentityHost_Returns401NotActive()
    {
        using var pastHost = new IdentityHostFactory { Time = new(DateTimeOffset.UtcNow - TimeSpan.FromHours(2)) };
        using var api = SampleApiFactory.Introspecting(pastHost);
        var accessToken = (await pastHost.CreateTokenClient().PasswordAsync()).AccessToken;
        pastHost.Time.Advance(TimeSpan.FromHours(2));

        using var response = await api.GetMeAsync(accessToken);

        BearerAssert.InvalidToken(response, "The access token is not active (expired or revoked).");
    }

    [Fact]
    public async Task Me_ActiveAnswerPastExpOnTheApiClock_Returns401SayingItExpired()
    {
        using var api = SampleApiFactory.Introspecting(identityHost, time: new FakeTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromHours(2)));
        var accessToken = (await tokens.PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        BearerAssert.InvalidToken(response, "expired at");
    }

    [Fact]
    public async Task Me_TokenFromAnotherIssuer_Returns401InvalidToken()
    {
        using var impostor = new IdentityHostFactory { Settings = { ["IdentityHost:Issuer"] = "http://impostor.example/" } };
        using var api = SampleApiFactory.Introspecting(impostor);
        var accessToken = (await impostor.CreateTokenClient().PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        BearerAssert.InvalidToken(response, "issuer");
    }

    [Fact]
    public async Task Me_TokenForAnotherAudience_Returns401InvalidToken()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);
        api.Settings["SampleApi:Audience"] = "billing-api";
        var accessToken = (await tokens.PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        BearerAssert.InvalidToken(response, "audience");
    }

    [Fact]
    public async Task Me_RefreshTokenAsBearer_Returns401InvalidToken()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);
        var refreshToken = (await tokens.PasswordAsync()).RefreshToken;

        using var response = await api.GetMeAsync(refreshToken);

        BearerAssert.InvalidToken(response, "not active");
    }

    [Fact]
    public async Task Me_IdTokenInsteadOfAccessToken_Returns401InvalidToken()
    {
        using var api = SampleApiFactory.Introspecting(identityHost);
        var idToken = (await tokens.PasswordAsync(scope: "openid api"))["id_token"]!;

        using var response = await api.GetMeAsync(idToken);

        BearerAssert.InvalidToken(response, "not active");
    }

    [Fact]
    public async Task Me_ApiClockBeforeNotBefore_Returns401NotValidYet()
    {
        using var api = SampleApiFactory.Introspecting(identityHost, time: new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(5)));
        var accessToken = (await tokens.PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        BearerAssert.InvalidToken(response, "not valid before");
    }

    public void Dispose() => identityHost.Dispose();
}
