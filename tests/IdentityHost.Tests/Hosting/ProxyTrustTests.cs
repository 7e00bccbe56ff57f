using System.Net;

namespace IdentityHost.Tests.Hosting;

/// <summary>With proxy trust on, X-Forwarded-* from a trusted proxy set the client IP and scheme, within reason.</summary>
public sealed class ProxyTrustTests(ProxyTrustTests.TrustingFactory factory) : IClassFixture<ProxyTrustTests.TrustingFactory>
{
    [Theory]
    [InlineData("GET", "/connect/endsession")]
    [InlineData("GET", "/connect/authorize?client_id=spa&response_type=code")]
    [InlineData("POST", "/connect/token")]
    [InlineData("GET", "/.well-known/openid-configuration")]
    public async Task ForwardedProtoOtherThanHttp_Returns400(string method, string path)
    {
        // Found by the fuzz test: with X-Forwarded-Proto: ftp OpenIddict did not recognise its endpoints (an ftp URI has
        // no query), so the passthrough endpoints ran without an OpenIddict request and failed with 500.
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("X-Forwarded-Proto", "ftp");

        using var response = await factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task ForwardedProtoHttps_IsAccepted()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
        request.Headers.Add("X-Forwarded-Proto", "https");

        using var response = await factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public sealed class TrustingFactory : IDisposable
    {
        private readonly IdentityHostFactory factory = new() { Settings = { ["IdentityHost:ForwardedHeaders:Enabled"] = "true" } };

        public HttpClient CreateClient() => factory.CreateClient();

        public void Dispose() => factory.Dispose();
    }
}
