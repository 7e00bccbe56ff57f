using System.Text;

namespace IdentityHost.Tests.Abuse;

/// <summary>
/// Seeded random malformed requests across every endpoint: a valid-looking request for the endpoint, then mutated —
/// values replaced by hostile ones, parameters dropped or duplicated, junk added, the wrong method, media type or
/// encoding, bad client authentication, odd headers and paths.
/// </summary>
internal sealed class RequestFuzzer(FuzzValues values, FuzzTokens tokens)
{
    private const string Origin = "http://localhost";
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "FOO"];
    private static readonly string[] GrantTypes = ["password", "client_credentials", "refresh_token", "authorization_code"];

    private (string Path, string Method, Func<List<KeyValuePair<string, string>>> Parameters, string? Authorization)[] Endpoints => [
        ("/connect/token", "POST", TokenParameters, Basic("postman", "postman-secret")),
        ("/connect/authorize", "GET", AuthorizeParameters, null),
        ("/connect/introspect", "POST", () => [new("token", AnyToken()), new("token_type_hint", values.Pick(["access_token", "refresh_token", "x"]))], Basic("sample-api", "sample-api-secret")),
        ("/connect/revocation", "POST", () => [new("token", AnyToken()), new("client_id", "spa")], null),
        ("/connect/userinfo", values.Pick(["GET", "POST"]), () => [], "Bearer " + tokens.AccessToken),
        ("/connect/endsession", "GET", () => [new("id_token_hint", tokens.IdToken), new("post_logout_redirect_uri", "http://localhost:5002/"), new("state", "s")], null),
        ("/.well-known/openid-configuration", "GET", () => [], null),
        ("/.well-known/jwks", "GET", () => [], null),
        ("/.well-known/" + values.Pick(["", "x", "openid-configuration/jwks", "oauth-authorization-server"]), "GET", () => [], null),
        ("/api/token", "POST", () => [new("username", "fuzz-user"), new("password", values.Chance(0.5) ? TokenClient.Password : "wrong")], null),
        ("/api/token/refresh", "POST", () => [new("refresh_token", tokens.RefreshToken)], null),
        ("/account/login", values.Pick(["GET", "POST"]), LoginParameters, null),
    ];

    public FuzzCase Next()
    {
        var endpoints = Endpoints;
        var (path, method, template, authorization) = endpoints[values.Random.Next(endpoints.Length)];
        var parameters = Mutate(template());
        method = values.Chance(0.7) ? method : values.Pick(Methods);
        var inQuery = method is "GET" or "HEAD" ? values.Chance(0.85) : values.Chance(0.1);

        var headers = new List<KeyValuePair<string, string>>();
        if (Authorization(authorization) is { } header)
        {
            headers.Add(new("Authorization", header));
        }

        AddHeaders(headers, method);
        var (contentType, body) = inQuery && values.Chance(0.8) ? (null, null) : Body(path, parameters);
        var url = Origin + MutatePath(path) + (inQuery ? Query(parameters) : values.Chance(0.1) ? Query(Mutate([])) : "");
        return new FuzzCase(method, url.Length > 8_000 ? url[..8_000] : url, headers, contentType, body, values.Chance(0.3));
    }

    private List<KeyValuePair<string, string>> TokenParameters()
    {
        var grant = values.Chance(0.9) ? values.Pick(GrantTypes) : values.Value();
        List<KeyValuePair<string, string>> parameters = [new("grant_type", grant), new("scope", values.Pick(["openid offline_access api", "api", "openid profile email"]))];
        parameters.AddRange(grant switch
        {
            "password" => [new("username", "fuzz-user"), new("password", values.Chance(0.5) ? TokenClient.Password : "wrong")],
            "refresh_token" => [new("refresh_token", values.Chance(0.7) ? tokens.RefreshToken : AnyToken())],
            "authorization_code" => [new("code", AnyToken()), new("code_verifier", values.Text(43)), new("redirect_uri", "http://localhost:5002/callback.html"), new("client_id", "spa")],
            _ => [],
        });
        return parameters;
    }

    private List<KeyValuePair<string, string>> AuthorizeParameters()
    {
        List<KeyValuePair<string, string>> parameters = [new("client_id", "spa"), new("response_type", "code"), new("redirect_uri", "http://localhost:5002/callback.html"),
            new("scope", "openid profile offline_access api"), new("state", "st"), new("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), new("code_challenge_method", "S256")];
        foreach (var optional in new[] { "nonce", "prompt", "max_age", "response_mode", "id_token_hint", "login_hint", "ui_locales", "request", "request_uri", "acr_values", "claims" })
        {
            if (values.Chance(0.15))
            {
                parameters.Add(new(optional, optional switch
                {
                    "prompt" => values.Pick(["none", "login", "consent", "select_account", "none login"]),
                    "max_age" => values.Pick(["0", "1", "-1", "9223372036854775807", "99999999999999999999", "1.5", "x"]),
                    "id_token_hint" => tokens.IdToken,
                    _ => values.Value(),
                }));
            }
        }

        return parameters;
    }

    private List<KeyValuePair<string, string>> LoginParameters() =>
    [
        new("UserName", "fuzz-user"), new("Password", values.Chance(0.5) ? TokenClient.Password : "wrong"),
        new("ReturnUrl", values.Pick(["/connect/authorize?client_id=spa&response_type=code", "https://attacker.example/", "//evil", "/\\evil", "~/", "/account/login?ReturnUrl=%2F", values.Value()])),
        new("__RequestVerificationToken", values.Chance(0.5) ? tokens.AntiforgeryToken : values.Value()),
    ];

    private List<KeyValuePair<string, string>> Mutate(List<KeyValuePair<string, string>> parameters)
    {
        var mutated = new List<KeyValuePair<string, string>>();
        foreach (var parameter in parameters)
        {
            var roll = values.Random.Next(20);
            if (roll == 0)
            {
                continue; // dropped
            }

            mutated.Add(roll < 5 ? new(parameter.Key, values.Value()) : parameter);
            if (roll == 5)
            {
                mutated.Add(new(parameter.Key, values.Chance(0.5) ? parameter.Value : values.Value()));
            }
        }

        for (var junk = values.Random.Next(-2, 4); junk > 0; junk--)
        {
            mutated.Add(new(values.Chance(0.7) ? values.Pick(["client_id", "client_secret", "resource", "audience", "access_token", "scope", "grant_type", "code_verifier"]) : values.Value(), values.Value()));
        }

        return mutated;
    }

    private (string? ContentType, byte[]? Body) Body(string path, List<KeyValuePair<string, string>> parameters)
    {
        var json = path.StartsWith("/api/", StringComparison.Ordinal) ? 0.5 : 0.1;
        var roll = values.Random.NextDouble();
        var (natural, body) = roll < json ? ("application/json", values.JsonBody(parameters))
            : roll < json + 0.5 ? ("application/x-www-form-urlencoded", values.FormBody(parameters))
            : roll < json + 0.65 ? ("multipart/form-data; boundary=fuzz", values.MultipartBody(parameters))
            : roll < json + 0.8 ? (values.MediaType(), values.Bytes(values.Random.Next(0, values.Chance(0.1) ? 200_000 : 4_000)))
            : ((string?)null, values.Chance(0.5) ? [] : null);
        return (values.Chance(0.75) ? natural : values.MediaType(), body);
    }

    private string Query(List<KeyValuePair<string, string>> parameters)
    {
        var raw = values.Chance(0.15);
        var query = string.Join("&", parameters.Select(p => raw ? p.Key + "=" + p.Value : Uri.EscapeDataString(p.Key.Length > 500 ? p.Key[..500] : p.Key) + "=" + Uri.EscapeDataString(p.Value.Length > 2_000 ? p.Value[..2_000] : p.Value)));
        return query.Length == 0 && values.Chance(0.5) ? "" : "?" + (values.Chance(0.05) ? "%zz&=&&a" : query);
    }

    private string MutatePath(string path) => values.Random.Next(25) switch
    {
        0 => path + "/",
        1 => path.ToUpperInvariant(),
        2 => "/" + path,
        3 => path + "/" + Uri.EscapeDataString(values.Value() is { Length: < 200 } segment ? segment.Replace("\0", "", StringComparison.Ordinal) : "x"), // Kestrel refuses NUL in paths before the app
        4 => path.Replace("/", "/%2F", StringComparison.Ordinal),
        _ => path,
    };

    private string? Authorization(string? natural) => values.Random.Next(12) switch
    {
        0 => null,
        1 => "Basic " + values.HeaderText(values.Random.Next(0, 60)),
        2 => "Basic " + Convert.ToBase64String(values.Bytes(values.Random.Next(0, 60))),
        3 => values.Pick(["Basic", "Basic ", "Bearer", "Bearer ", "Negotiate abc", "basic cG9zdG1hbjpwb3N0bWFuLXNlY3JldA", "Basic =", "Basic " + new string('A', 16_000)]),
        4 => Basic(values.Pick(["postman", "%zz", "", "service", "spa", "web", "p:q", "unknown"]), values.Pick(["", "wrong", "%E0%A4%A", "postman-secret", ":"])),
        5 => "Bearer " + AnyToken(),
        _ => natural,
    };

    private void AddHeaders(List<KeyValuePair<string, string>> headers, string method)
    {
        if (values.Chance(0.1))
        {
            headers.Add(new("Origin", values.Pick(["http://localhost:5002", "https://attacker.example", "null", values.HeaderText(20)])));
            if (method == "OPTIONS")
            {
                headers.Add(new("Access-Control-Request-Method", values.Pick(["POST", "GET", "DELETE", values.HeaderText(5)])));
                headers.Add(new("Access-Control-Request-Headers", values.Pick(["authorization,content-type", "x-evil", values.HeaderText(30)])));
            }
        }

        foreach (var (name, probability, value) in new (string, double, Func<string>)[]
        {
            ("X-Forwarded-For", 0.1, () => values.Pick(["203.0.113.9", "203.0.113.9, 10.0.0.1", "not-an-ip", "::1", "[::1]:80", "", values.HeaderText(40)])),
            ("X-Forwarded-Proto", 0.05, () => values.Pick(["https", "http", "ftp", "", "https, http", values.HeaderText(10)])),
            ("Cookie", 0.08, () => values.Pick(["IdentityHost.Session=", ".AspNetCore.Antiforgery.x=", "a"]) + values.HeaderText(values.Random.Next(0, 3_000))),
            ("Accept", 0.1, () => values.Pick(["text/html", "application/json", "*/*;q=abc", "", values.HeaderText(50)])),
            ("X-Fuzz", 0.05, () => values.HeaderText(values.Random.Next(4_000, 16_000))),
            ("Accept-Language", 0.05, () => values.Pick(["xx-YY", "*", "en;q=2", values.HeaderText(30)])),
            ("DPoP", 0.1, DpopProof),
            ("DPoP", 0.02, DpopProof),
        })
        {
            if (values.Chance(probability))
            {
                headers.Add(new(name, value()));
            }
        }
    }

    /// <summary>A malformed DPoP proof: bad base64, wrong types, nested or huge JSON, a valid-looking header with junk.</summary>
    private string DpopProof()
    {
        string Part(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = values.Pick([
            """{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}}""",
            """{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":1,"y":[],"d":"x"}}""",
            """{"typ":"dpop+jwt","alg":"RS256","jwk":{"kty":"RSA","n":"","e":{}}}""",
            """{"typ":["dpop+jwt"],"alg":null,"jwk":"x"}""",
            """{"typ":"dpop+jwt","alg":"none"}""",
            """{"typ":"dpop+jwt","alg":"HS256","jwk":{"kty":"oct","k":"c2VjcmV0"}}""",
            "{\"jwk\":" + new string('[', 200) + new string(']', 200) + "}",
            "[]", "null", "\"dpop\"", values.Text(values.Random.Next(0, 200)),
        ]);
        var payload = values.Pick([
            """{"htm":"POST","htu":"http://localhost:5001/connect/token","iat":1e300,"jti":"x"}""",
            """{"htm":1,"htu":[],"iat":"now","jti":{}}""",
            """{"iat":-9223372036854775808,"jti":""}""",
            "{}", values.Text(values.Random.Next(0, 100)),
        ]);
        return values.Random.Next(6) switch
        {
            0 => values.HeaderText(values.Random.Next(0, 9_000)),
            1 => Part(header) + "." + Part(payload),
            2 => "%%." + Part(payload) + ".!!",
            _ => Part(header) + "." + Part(payload) + "." + Part(values.Text(values.Random.Next(0, 300))),
        };
    }

    private string AnyToken() => values.Random.Next(6) switch
    {
        0 => tokens.AccessToken,
        1 => tokens.RefreshToken,
        2 => tokens.IdToken,
        3 => tokens.AccessToken[..^5] + "AAAAA",
        _ => values.Value(),
    };

    private static string Basic(string clientId, string secret) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}"));
}
