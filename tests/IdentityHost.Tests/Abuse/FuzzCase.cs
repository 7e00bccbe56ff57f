using System.Text;

namespace IdentityHost.Tests.Abuse;

/// <summary>Tokens the fuzzer may plant in requests, so mutated requests get past the first checks.</summary>
internal sealed record FuzzTokens(string AccessToken, string RefreshToken, string IdToken, string AntiforgeryToken);

/// <summary>One generated request, replayable and printable.</summary>
internal sealed record FuzzCase(string Method, string Url, List<KeyValuePair<string, string>> Headers, string? ContentType, byte[]? Body, bool SignedIn)
{
    public HttpRequestMessage ToRequest()
    {
        var request = new HttpRequestMessage(new HttpMethod(Method), Url);
        if (Body is not null)
        {
            request.Content = new ByteArrayContent(Body);
            if (ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }
        }

        foreach (var (name, value) in Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    public override string ToString()
    {
        var body = Body is null ? "(none)" : Encoding.UTF8.GetString(Body.Length > 300 ? Body[..300] : Body) + $"… ({Body.Length} bytes)";
        var headers = string.Join("; ", Headers.Select(h => $"{h.Key}: {(h.Value.Length > 120 ? h.Value[..120] + "…" : h.Value)}"));
        return $"{Method} {(Url.Length > 400 ? Url[..400] + "…" : Url)} signed-in={SignedIn}\n  headers: {headers}\n  content-type: {ContentType}\n  body: {body}";
    }
}
