using System.Globalization;
using System.Security.Claims;
using System.Text.Json;

namespace SampleApi.Hosting;

/// <summary>An RFC 7662 introspection answer: the JSON object the authority returned, read-only.</summary>
public sealed class IntrospectionResponse
{
    private readonly JsonElement body;

    private IntrospectionResponse(JsonElement body) => this.body = body;

    /// <summary><c>{"active": false}</c>.</summary>
    public static IntrospectionResponse Inactive { get; } = new(JsonDocument.Parse("""{"active":false}""").RootElement.Clone());

    /// <summary><c>active</c>: only a literal <c>true</c> counts (RFC 7662 §2.2).</summary>
    public bool Active => body.TryGetProperty("active", out var active) && active.ValueKind == JsonValueKind.True;

    public string? Issuer => GetString("iss");

    /// <summary>OpenIddict's <c>token_usage</c> (<c>access_token</c>, <c>refresh_token</c>, …), when present.</summary>
    public string? TokenUsage => GetString("token_usage");

    /// <summary><c>aud</c>, which may be a single string or an array of strings; empty when absent.</summary>
    public IReadOnlyList<string> Audiences => !body.TryGetProperty("aud", out var aud) ? [] : aud.ValueKind switch
    {
        JsonValueKind.String => [aud.GetString()!],
        JsonValueKind.Array => [.. aud.EnumerateArray().Where(item => item.ValueKind == JsonValueKind.String).Select(item => item.GetString()!)],
        _ => [],
    };

    public DateTimeOffset? ExpiresAt => GetTime("exp");

    /// <summary>The <c>jkt</c> of <c>cnf</c>: the thumbprint of the DPoP key the token is bound to (RFC 9449 §6.2).</summary>
    public string? ConfirmationJkt => body.TryGetProperty("cnf", out var cnf) && cnf.ValueKind == JsonValueKind.Object &&
        cnf.TryGetProperty("jkt", out var jkt) && jkt.ValueKind == JsonValueKind.String ? jkt.GetString() : null;

    public DateTimeOffset? NotBefore => GetTime("nbf");

    /// <summary>Reads an answer; null when it is not a JSON object.</summary>
    public static IntrospectionResponse? From(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object ? new IntrospectionResponse(body.Clone()) : null;

    /// <summary>
    /// One claim per member (one per element of an array), named as in the JWT, so <c>/api/me</c> reads the same claims in
    /// both modes. <c>active</c> is dropped: a principal only exists for an active token.
    /// </summary>
    public IEnumerable<Claim> ToClaims(string issuer)
    {
        foreach (var member in body.EnumerateObject().Where(member => member.Name != "active"))
        {
            IEnumerable<JsonElement> values = member.Value.ValueKind == JsonValueKind.Array ? member.Value.EnumerateArray() : [member.Value];
            foreach (var value in values)
            {
                yield return value.ValueKind switch
                {
                    JsonValueKind.String => new Claim(member.Name, value.GetString()!, ClaimValueTypes.String, issuer),
                    JsonValueKind.Number when value.TryGetInt64(out var number) =>
                        new Claim(member.Name, number.ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64, issuer),
                    JsonValueKind.True or JsonValueKind.False => new Claim(member.Name, value.GetRawText(), ClaimValueTypes.Boolean, issuer),
                    _ => new Claim(member.Name, value.GetRawText(), "JSON", issuer),
                };
            }
        }
    }

    private DateTimeOffset? GetTime(string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    private string? GetString(string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
