using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace IdentityHost.Bench;

/// <summary>
/// What one token request came back with. <see cref="Status"/> is 0 when no HTTP answer arrived (connection refused,
/// reset, timeout); <see cref="Error"/> is then the transport failure instead of an OAuth <c>error</c>.
/// </summary>
internal readonly record struct TokenOutcome(int Status, string? Error, bool HasAccessToken, string? RefreshToken)
{
    public bool Succeeded => Status == 200 && HasAccessToken;

    /// <summary>The key errors are counted under, e.g. <c>400 invalid_grant</c>, <c>500</c>, <c>transport timeout</c>.</summary>
    public string ErrorKey => Status == 0 ? $"transport {Error}"
        : Status == 200 ? "200 without access_token"
        : Error is null ? Status.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : $"{Status} {Error}";
}

/// <summary>
/// Posts token requests to <c>/connect/token</c> as a confidential client (HTTP Basic), over one pooled
/// <see cref="SocketsHttpHandler"/> with a connection per worker. Responses are read with a forward-only JSON reader:
/// the generator shares the machine with the server, so it spends as little CPU as it can.
/// </summary>
internal sealed class TokenEndpointClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);
    private readonly HttpClient http;
    private readonly Uri tokenUri;
    private readonly AuthenticationHeaderValue basic;
    private readonly DpopProofs? proofs;
    private readonly bool sendProofs;

    public TokenEndpointClient(Uri baseUrl, string clientId, string clientSecret, int connections, bool dpop = false, bool dpopUnsent = false)
    {
        http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        })
        {
            BaseAddress = baseUrl,
            Timeout = RequestTimeout,
        };
        tokenUri = new Uri(baseUrl, "connect/token");
        proofs = dpop || dpopUnsent ? new DpopProofs(tokenUri) : null;
        sendProofs = dpop;

        // RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined for Basic authentication.
        basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(clientSecret)}")));
    }

    public Task<TokenOutcome> PasswordAsync(string userName, string password, string scope, CancellationToken cancellationToken) =>
        PostAsync([new("grant_type", "password"), new("username", userName), new("password", password), new("scope", scope)], cancellationToken);

    public Task<TokenOutcome> RefreshAsync(string refreshToken, CancellationToken cancellationToken) =>
        PostAsync([new("grant_type", "refresh_token"), new("refresh_token", refreshToken)], cancellationToken);

    public Task<TokenOutcome> ClientCredentialsAsync(string scope, CancellationToken cancellationToken) =>
        PostAsync([new("grant_type", "client_credentials"), new("scope", scope)], cancellationToken);

    /// <summary>True when the discovery document answers 200.</summary>
    public async Task<bool> IsServerUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(".well-known/openid-configuration", cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private async Task<TokenOutcome> PostAsync(KeyValuePair<string, string>[] form, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenUri) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = basic;
        if (proofs?.Next() is { } proof && sendProofs)
        {
            request.Headers.Add("DPoP", proof);
        }
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return Parse((int)response.StatusCode, body);
        }
        catch (HttpRequestException ex)
        {
            return new TokenOutcome(0, ex.HttpRequestError.ToString(), false, null);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new TokenOutcome(0, "timeout", false, null);
        }
    }

    /// <summary>Picks <c>access_token</c>, <c>refresh_token</c> and <c>error</c> out of the top-level JSON object.</summary>
    private static TokenOutcome Parse(int status, byte[] body)
    {
        string? error = null, refreshToken = null;
        var hasAccessToken = false;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return new TokenOutcome(status, status == 200 ? "non-JSON body" : null, false, null);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueTextEquals("access_token"u8) ? 1 : reader.ValueTextEquals("refresh_token"u8) ? 2 : reader.ValueTextEquals("error"u8) ? 3 : 0;
                reader.Read();
                if (name != 0 && reader.TokenType == JsonTokenType.String)
                {
                    switch (name)
                    {
                        case 1: hasAccessToken = reader.ValueSpan.Length > 0; break;
                        case 2: refreshToken = reader.GetString(); break;
                        default: error = reader.GetString(); break;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            error ??= status == 200 ? "malformed JSON" : null;
        }

        return new TokenOutcome(status, error, hasAccessToken, refreshToken);
    }

    public void Dispose()
    {
        http.Dispose();
        proofs?.Dispose();
    }
}
