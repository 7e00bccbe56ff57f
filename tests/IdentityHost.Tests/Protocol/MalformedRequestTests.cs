using System.Net;
using System.Text;
using System.Text.Json;

namespace IdentityHost.Tests.Protocol;

/// <summary>Malformed requests get an RFC 6749 error (4xx, JSON error + error_description), never a 5xx.</summary>
public sealed class MalformedRequestTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly HttpClient http = factory.CreateClient();

    [Fact]
    public async Task Get_OnTokenEndpoint_ReturnsInvalidRequest()
    {
        await AssertProtocolErrorAsync(new HttpRequestMessage(HttpMethod.Get, "connect/token?grant_type=client_credentials"), "invalid_request");
    }

    [Fact]
    public async Task MissingGrantType_ReturnsInvalidRequest()
    {
        await AssertProtocolErrorAsync(Form("connect/token", "client_id=web&username=alice"), "invalid_request");
    }

    [Fact]
    public async Task UnknownGrantType_ReturnsUnsupportedGrantType()
    {
        await AssertProtocolErrorAsync(Form("connect/token", "client_id=web&grant_type=urn:example:nope"), "unsupported_grant_type");
    }

    [Fact]
    public async Task JsonBody_ReturnsInvalidRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new StringContent("""{"grant_type":"client_credentials"}""", Encoding.UTF8, "application/json"),
        };
        await AssertProtocolErrorAsync(request, "invalid_request");
    }

    [Fact]
    public async Task NoContentType_ReturnsInvalidRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "connect/token") { Content = new ByteArrayContent("grant_type=password"u8.ToArray()) };
        await AssertProtocolErrorAsync(request, "invalid_request");
    }

    [Fact]
    public async Task TwoMediaTypesInContentType_ReturnsInvalidRequest()
    {
        var request = Form("connect/token", "grant_type=client_credentials&client_id=service&client_secret=service-secret");
        request.Content!.Headers.Remove("Content-Type");
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded, application/json");
        await AssertProtocolErrorAsync(request, "invalid_request");
    }

    [Fact]
    public async Task DuplicatedParameters_ReturnInvalidRequest()
    {
        await AssertProtocolErrorAsync(Form("connect/token", "grant_type=password&grant_type=client_credentials&client_id=web&username=alice&password=x"), "invalid_request");
    }

    [Fact]
    public async Task OversizedBody_Returns4xx()
    {
        var body = "grant_type=client_credentials&client_id=service&junk=" + new string('a', 200_000);
        await AssertProtocolErrorAsync(Form("connect/token", body), "invalid_request");
    }

    [Fact]
    public async Task OversizedFormKey_Returns4xx()
    {
        var body = new string('k', 5_000) + "=1&grant_type=client_credentials";
        await AssertProtocolErrorAsync(Form("connect/token", body), "invalid_request");
    }

    [Fact]
    public async Task MalformedPercentEncoding_DoesNotFail5xx()
    {
        using var response = await http.SendAsync(Form("connect/token", "grant_type=%zz&client_id=%E0%A4%A"));
        Assert.InRange((int)response.StatusCode, 400, 499);
    }

    [Theory]
    [InlineData("connect/authorize?client_id=spa%00&response_type=code")]
    [InlineData("connect/userinfo?access_token=%00")]
    public async Task NulInQueryString_ReturnsInvalidRequest(string url)
    {
        // PostgreSQL refuses NUL in text: without this check the client look-up fails with a 500 on that engine.
        await AssertProtocolErrorAsync(new HttpRequestMessage(HttpMethod.Get, url), "invalid_request");
    }

    [Fact]
    public async Task IntrospectionWithJsonBody_ReturnsInvalidRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "connect/introspect")
        {
            Content = new StringContent("""{"token":"x"}""", Encoding.UTF8, "application/json"),
        };
        await AssertProtocolErrorAsync(request, "invalid_request");
    }

    [Theory]
    [InlineData("connect/token")]
    [InlineData("connect/introspect")]
    [InlineData("api/token")]
    public async Task TruncatedMultipartBody_ReturnsInvalidRequest(string path)
    {
        // Found by the fuzz test: a multipart body without its closing boundary made form reading throw IOException.
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent("--fuzz\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--fu", Encoding.ASCII),
        };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=fuzz");

        await AssertProtocolErrorAsync(request, "invalid_request");
    }

    private static HttpRequestMessage Form(string path, string body) => new(HttpMethod.Post, path)
    {
        Content = new StringContent(body, Encoding.ASCII, "application/x-www-form-urlencoded"),
    };

    private async Task AssertProtocolErrorAsync(HttpRequestMessage request, string expectedError)
    {
        using (request)
        using (var response = await http.SendAsync(request))
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.InRange((int)response.StatusCode, 400, 499);
            var body = JsonDocument.Parse(text).RootElement;
            Assert.Equal(expectedError, body.GetProperty("error").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("error_description").GetString()));
        }
    }
}
