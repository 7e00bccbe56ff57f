using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace IdentityHost.Testing;

/// <summary>A token-endpoint answer: status, headers and the parsed JSON body.</summary>
public sealed record ProtocolResponse(HttpStatusCode Status, HttpResponseHeaders Headers, JsonElement Body)
{
    public string? this[string name] =>
        Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;

    public string AccessToken => this["access_token"] ?? throw new InvalidOperationException($"No access_token in {Status}: {Body}");

    public string RefreshToken => this["refresh_token"] ?? throw new InvalidOperationException($"No refresh_token in {Status}: {Body}");

    public string? Error => this["error"];

    public override string ToString() => $"{(int)Status} {Body}";
}

/// <summary>Small helpers speaking OAuth 2.0 to IdentityHost over real HTTP, with the Development demo clients.</summary>
public sealed class TokenClient(HttpClient http)
{
    public const string Password = "Pass123$";

    public HttpClient Http => http;

    public Task<ProtocolResponse> PasswordAsync(string username = "alice", string password = Password,
        string scope = "openid offline_access api", string clientId = "postman", string? secret = "postman-secret") =>
        PostAsync("connect/token", clientId, secret, new()
        {
            ["grant_type"] = "password",
            ["username"] = username,
            ["password"] = password,
            ["scope"] = scope,
        });

    public Task<ProtocolResponse> RefreshAsync(string refreshToken, string clientId = "postman", string? secret = "postman-secret") =>
        PostAsync("connect/token", clientId, secret, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });

    public Task<ProtocolResponse> ClientCredentialsAsync(string scope = "api", string clientId = "service", string? secret = "service-secret") =>
        PostAsync("connect/token", clientId, secret, new() { ["grant_type"] = "client_credentials", ["scope"] = scope });

    public Task<ProtocolResponse> IntrospectAsync(string token, string clientId = "sample-api", string? secret = "sample-api-secret") =>
        PostAsync("connect/introspect", clientId, secret, new() { ["token"] = token });

    public Task<ProtocolResponse> RevokeAsync(string token, string clientId = "postman", string? secret = "postman-secret") =>
        PostAsync("connect/revocation", clientId, secret, new() { ["token"] = token });

    /// <summary>POSTs a form, authenticating a confidential client with HTTP Basic and a public one with client_id.</summary>
    public async Task<ProtocolResponse> PostAsync(string path, string clientId, string? secret, Dictionary<string, string> form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (secret is null)
        {
            form["client_id"] = clientId;
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        }

        request.Content = new FormUrlEncodedContent(form);
        return await SendAsync(request);
    }

    public async Task<ProtocolResponse> SendAsync(HttpRequestMessage request)
    {
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new ProtocolResponse(response.StatusCode, response.Headers, body);
    }
}

/// <summary>Decodes (without validating) the parts of a compact JWS.</summary>
public static class Jwt
{
    public static JsonElement Header(string jwt) => DecodePart(jwt, 0);

    public static JsonElement Payload(string jwt) => DecodePart(jwt, 1);

    private static JsonElement DecodePart(string jwt, int index)
    {
        var part = jwt.Split('.')[index].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Convert.FromBase64String(part)).RootElement.Clone();
    }
}
