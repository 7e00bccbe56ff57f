using System.Net;
using System.Text.Json;
using SampleApi.Tests.Infrastructure;

namespace SampleApi.Tests;

/// <summary>SampleApi answers 200, 401 and 403 exactly as the contract says, for tokens from a real IdentityHost.</summary>
public sealed class ApiAuthenticationTests : IDisposable
{
    private readonly IdentityHostFactory identityHost = new();
    private readonly TokenClient tokens;

    public ApiAuthenticationTests() => tokens = identityHost.CreateTokenClient();

    [Fact]
    public async Task Public_WithoutToken_Returns200()
    {
        using var api = new SampleApiFactory(identityHost);

        using var response = await api.CreateClient().GetAsync("/api/public");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Me_ValidToken_Returns200WithCallerClaims()
    {
        using var api = new SampleApiFactory(identityHost);
        var accessToken = (await tokens.PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(Jwt.Payload(accessToken).GetProperty("sub").GetString(), body.GetProperty("sub").GetString());
        Assert.Equal("postman", body.GetProperty("client_id").GetString());
        Assert.Contains("api", body.GetProperty("scope").GetString()!.Split(' '));
    }

    [Fact]
    public async Task Me_NoToken_Returns401BearerChallenge()
    {
        using var api = new SampleApiFactory(identityHost);

        using var response = await api.CreateClient().GetAsync("/api/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().ToString());
    }

    [Fact]
    public async Task Me_ExpiredToken_Returns401SayingItExpired()
    {
        using var pastHost = new IdentityHostFactory { Time = new(DateTimeOffset.UtcNow - TimeSpan.FromHours(2)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) } };
        using var api = new SampleApiFactory(pastHost);
        var accessToken = (await pastHost.CreateTokenClient().PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.Single().ToString();
        Assert.Contains("error=\"invalid_token\"", challenge);
        Assert.Contains("expired", challenge);
    }

    [Theory]
    [InlineData("00:00:30", HttpStatusCode.OK)]
    [InlineData("00:00:00", HttpStatusCode.Unauthorized)]
    public async Task Me_TokenExpiredTenSecondsAgo_IsJudgedByConfiguredClockSkew(string clockSkew, HttpStatusCode expected)
    {
        using var pastHost = new IdentityHostFactory { Time = new(DateTimeOffset.UtcNow - TimeSpan.FromHours(1) - TimeSpan.FromSeconds(10)) { AutoAdvanceAmount = TimeSpan.FromMilliseconds(1) } };
        using var api = new SampleApiFactory(pastHost) { Settings = { ["SampleApi:ClockSkew"] = clockSkew } };
        var accessToken = (await pastHost.CreateTokenClient().PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Me_TamperedSignature_Returns401InvalidToken()
    {
        using var api = new SampleApiFactory(identityHost);
        var accessToken = (await tokens.PasswordAsync()).AccessToken;
        var signatureStart = accessToken.LastIndexOf('.') + 1;
        var tampered = accessToken[..signatureStart] + (accessToken[signatureStart] == 'A' ? 'B' : 'A') + accessToken[(signatureStart + 1)..];

        using var response = await api.GetMeAsync(tampered);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.Single().ToString());
    }

    [Fact]
    public async Task Me_TamperedPayload_Returns401InvalidToken()
    {
        using var api = new SampleApiFactory(identityHost);
        var parts = (await tokens.PasswordAsync()).AccessToken.Split('.');
        var claims = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Convert.FromBase64String(Pad(parts[1])))!;
        claims["scope"] = JsonSerializer.SerializeToElement("openid api admin");
        var forged = $"{parts[0]}.{Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims))}.{parts[2]}";

        using var response = await api.GetMeAsync(forged);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Me_TokenFromAnotherIssuer_Returns401InvalidToken()
    {
        using var api = new SampleApiFactory(identityHost);
        using var impostor = new IdentityHostFactory { Folder = identityHost.Folder, Settings = { ["IdentityHost:Issuer"] = "http://impostor.example/" } };
        _ = identityHost.Services;
        var accessToken = (await impostor.CreateTokenClient().PasswordAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.Single().ToString());
    }

    [Fact]
    public async Task Me_TokenForAnotherAudience_Returns401InvalidToken()
    {
        using var billingHost = new IdentityHostFactory
        {
            Settings =
            {
                ["IdentityHost:Scopes:billing:Resources:0"] = "billing-api",
                ["IdentityHost:Clients:postman:Scopes:6"] = "billing",
            },
        };
        using var api = new SampleApiFactory(billingHost);
        var accessToken = (await billingHost.CreateTokenClient().PasswordAsync(scope: "billing")).AccessToken;
        Assert.Equal("billing-api", Jwt.Payload(accessToken).GetProperty("aud").GetString());

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("audience", response.Headers.WwwAuthenticate.Single().ToString());
    }

    [Fact]
    public async Task Me_IdTokenInsteadOfAccessToken_Returns401()
    {
        using var api = new SampleApiFactory(identityHost) { Settings = { ["SampleApi:Audience"] = "postman" } };
        var idToken = (await tokens.PasswordAsync(scope: "openid api"))["id_token"]!;

        using var response = await api.GetMeAsync(idToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Me_TokenForTheApiWithoutApiScope_Returns403InsufficientScope()
    {
        using var api = new SampleApiFactory(identityHost);
        var accessToken = (await tokens.PasswordAsync(scope: "openid api.write")).AccessToken;
        Assert.Equal("sample-api", Jwt.Payload(accessToken).GetProperty("aud").GetString());

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.Single().ToString();
        Assert.Contains("error=\"insufficient_scope\"", challenge);
        Assert.Contains("scope=\"api\"", challenge);
    }

    [Fact]
    public async Task Me_ClientCredentialsToken_Returns200()
    {
        using var api = new SampleApiFactory(identityHost);
        var accessToken = (await tokens.ClientCredentialsAsync()).AccessToken;

        using var response = await api.GetMeAsync(accessToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public void Dispose() => identityHost.Dispose();

    private static string Pad(string base64Url)
    {
        var base64 = base64Url.Replace('-', '+').Replace('_', '/');
        return base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
