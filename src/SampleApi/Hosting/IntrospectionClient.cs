using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SampleApi.Configuration;

namespace SampleApi.Hosting;

/// <summary>
/// The back channel of Introspection mode: finds <c>introspection_endpoint</c> in the authority's discovery document
/// (cached) and asks it about a token (RFC 7662) as the API's own confidential client. Failures are logged here and
/// reported as null; neither the token nor the client secret is ever logged.
/// </summary>
public sealed class IntrospectionClient(
    IHttpClientFactory httpClients,
    IOptions<SampleApiOptions> settings,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<IntrospectionClient> logger)
{
    /// <summary>The named <see cref="HttpClient"/> used for discovery and introspection.</summary>
    public const string HttpClientName = "SampleApi.Introspection";

    /// <summary>How long a discovery document is trusted before it is read again (JwtBearer's default refresh).</summary>
    private static readonly TimeSpan DiscoveryLifetime = TimeSpan.FromHours(12);

    private volatile DiscoveredEndpoint? discovered;

    /// <summary>The authority's answer about <paramref name="token"/>; null when the back channel failed.</summary>
    public async Task<IntrospectionResponse?> IntrospectAsync(string token, CancellationToken cancellationToken)
    {
        var endpoint = await GetEndpointAsync(cancellationToken);
        if (endpoint is null)
        {
            return null;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        request.Headers.Authorization = ClientCredentials();
        request.Content = new FormUrlEncodedContent(
        [
            new("token", token),
            new("token_type_hint", "access_token"),
        ]);

        var answer = await SendAsync(request, cancellationToken);
        if (answer is { IsSuccess: true } && IntrospectionResponse.From(answer.Body) is { } response)
        {
            return response;
        }

        // OpenIddict refuses to introspect some token kinds (an id_token, say) instead of calling them inactive.
        if (answer is { Status: HttpStatusCode.BadRequest, Error: "unsupported_token_type" })
        {
            return IntrospectionResponse.Inactive;
        }

        if (answer is not null)
        {
            logger.LogError("Token introspection failed: {Endpoint} answered {StatusCode} {Error}", endpoint, (int)answer.Status, answer.Error);
        }

        // The endpoint may have moved: read the discovery document again next time.
        discovered = null;
        return null;
    }

    private async Task<Uri?> GetEndpointAsync(CancellationToken cancellationToken)
    {
        if (discovered is { } cached && cached.ExpiresAt > time.GetUtcNow())
        {
            return cached.Endpoint;
        }

        // As JwtBearer builds its metadata address: the authority's path is kept.
        var authority = settings.Value.Authority.AbsoluteUri;
        var address = authority + (authority.EndsWith('/') ? "" : "/") + ".well-known/openid-configuration";
        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        var answer = await SendAsync(request, cancellationToken);
        if (answer is null)
        {
            return null;
        }

        if (!answer.IsSuccess
            || answer.Body.ValueKind != JsonValueKind.Object
            || !answer.Body.TryGetProperty("introspection_endpoint", out var value)
            || value.ValueKind != JsonValueKind.String
            || !Uri.TryCreate(value.GetString(), UriKind.Absolute, out var endpoint))
        {
            logger.LogError("Token introspection failed: discovery at {Address} answered {StatusCode} without a valid introspection_endpoint",
                address, (int)answer.Status);
            return null;
        }

        // The client secret goes to this endpoint: never in clear text outside Development.
        if (endpoint.Scheme != Uri.UriSchemeHttps && !environment.IsDevelopment())
        {
            logger.LogError("Token introspection failed: {Endpoint} does not use https; the client secret is not sent", endpoint);
            return null;
        }

        discovered = new DiscoveredEndpoint(endpoint, time.GetUtcNow() + DiscoveryLifetime);
        return endpoint;
    }

    /// <summary>Sends a back-channel request; its status and JSON body, or null (logged) when no answer came.</summary>
    private async Task<Answer?> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            return new Answer(response.StatusCode, ParseJson(text));
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogError(ex, "Token introspection failed: {Uri} could not be reached", request.RequestUri);
            return null;
        }
    }

    /// <summary>The JSON of a body; <c>default</c> (Undefined) when it is not JSON, e.g. a proxy's HTML error page.</summary>
    private static JsonElement ParseJson(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            return json.RootElement.Clone();
        }
        catch (JsonException)
        {
            return default;
        }
    }

    /// <summary>HTTP Basic with the client id and secret form-url-encoded first (RFC 6749 §2.3.1).</summary>
    private AuthenticationHeaderValue ClientCredentials()
    {
        var api = settings.Value;

        // EscapeDataString never emits '+', so form decoders and plain percent-decoders read the same value.
        var pair = $"{Uri.EscapeDataString(api.ClientId)}:{Uri.EscapeDataString(api.ClientSecret ?? "")}";
        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
    }

    private sealed record DiscoveredEndpoint(Uri Endpoint, DateTimeOffset ExpiresAt);

    private sealed record Answer(HttpStatusCode Status, JsonElement Body)
    {
        public bool IsSuccess => (int)Status is >= 200 and < 300;

        /// <summary>The RFC 6749 <c>error</c> of an error answer, if it has one.</summary>
        public string? Error => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("error", out var error)
            && error.ValueKind == JsonValueKind.String ? error.GetString() : null;
    }
}
