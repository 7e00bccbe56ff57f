using System.Text.Json;

namespace IdentityHost.Tests.Discovery;

public sealed class DiscoveryTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task Discovery_ListsIssuerEndpointsAndGrants()
    {
        var document = await GetJsonAsync("/.well-known/openid-configuration");

        Assert.Equal("http://localhost:5001/", document.GetProperty("issuer").GetString());
        Assert.EndsWith("/connect/token", document.GetProperty("token_endpoint").GetString());
        Assert.EndsWith("/connect/revocation", document.GetProperty("revocation_endpoint").GetString());
        Assert.EndsWith("/connect/introspect", document.GetProperty("introspection_endpoint").GetString());
        Assert.EndsWith("/connect/userinfo", document.GetProperty("userinfo_endpoint").GetString());
        Assert.EndsWith("/.well-known/jwks", document.GetProperty("jwks_uri").GetString());
        Assert.EndsWith("/connect/authorize", document.GetProperty("authorization_endpoint").GetString());
        Assert.EndsWith("/connect/endsession", document.GetProperty("end_session_endpoint").GetString());
        Assert.Equal(["S256"], document.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(method => method.GetString()));
        Assert.Equal(["code"], document.GetProperty("response_types_supported").EnumerateArray().Select(type => type.GetString()));
        var grants = document.GetProperty("grant_types_supported").EnumerateArray().Select(grant => grant.GetString()).ToList();
        Assert.Contains("password", grants);
        Assert.Contains("client_credentials", grants);
        Assert.Contains("refresh_token", grants);
        Assert.Contains("authorization_code", grants);
        var scopes = document.GetProperty("scopes_supported").EnumerateArray().Select(scope => scope.GetString()).ToList();
        Assert.Contains("api", scopes);
        Assert.Contains("offline_access", scopes);
    }

    [Fact]
    public async Task Jwks_PublishesRsaSigningKeyWithoutPrivateParts()
    {
        var keys = (await GetJsonAsync("/.well-known/jwks")).GetProperty("keys").EnumerateArray().ToList();

        var key = Assert.Single(keys);
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.Equal("sig", key.GetProperty("use").GetString());
        Assert.False(string.IsNullOrEmpty(key.GetProperty("kid").GetString()));
        Assert.True(key.GetProperty("n").GetString()!.Length >= 342, "expected a 2048-bit modulus");
        foreach (var privatePart in new[] { "d", "p", "q", "dp", "dq", "qi", "k" })
        {
            Assert.False(key.TryGetProperty(privatePart, out _), $"JWKS leaks private parameter '{privatePart}'");
        }
    }

    [Fact]
    public async Task AccessToken_KidMatchesPublishedKey()
    {
        var tokens = await factory.CreateTokenClient().PasswordAsync();
        var kid = (await GetJsonAsync("/.well-known/jwks")).GetProperty("keys")[0].GetProperty("kid").GetString();

        Assert.Equal(kid, Jwt.Header(tokens.AccessToken).GetProperty("kid").GetString());
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await factory.CreateClient().GetAsync(path);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
