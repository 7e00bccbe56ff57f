using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

// The floor of a refresh: what a .NET server on Kestrel must spend per refresh_token grant when it does nothing else
// than the protocol's bare minimum, so the bench tool can measure it exactly like IdentityHost. Per refresh it
// checks the client's Basic credentials (constant-time compare; no hashing), looks the presented token's SHA-256 up
// in memory and spends it (single use), signs one access-token JWT (FLOOR_SIGNING = RS256 (RSA-2048), ES256 or none)
// and answers the same JSON as IdentityHost. No database, no durability, no families, no user re-check, no logging:
// every real token server spends more than this. Only for bench/floor.sh; never a server to deploy.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

var signing = Environment.GetEnvironmentVariable("FLOOR_SIGNING") ?? "RS256";
using var rsa = RSA.Create(2048);
using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
var issuer = (Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? "http://127.0.0.1:5000").TrimEnd('/') + "/";
var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
{
    ["alg"] = signing == "none" ? "none" : signing, ["kid"] = "floor", ["typ"] = "at+jwt",
}));
var expectedBasic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("postman:postman-secret"));
var live = new ConcurrentDictionary<string, string>(StringComparer.Ordinal); // SHA-256 of a refresh token -> subject

app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, string> { ["issuer"] = issuer }));
app.MapPost("/connect/token", async (HttpContext context) =>
{
    var authorization = context.Request.Headers.Authorization.ToString();
    if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(authorization), Encoding.UTF8.GetBytes(expectedBasic)))
    {
        return Error(401, "invalid_client");
    }

    var form = await context.Request.ReadFormAsync();
    string subject;
    switch (form["grant_type"].ToString())
    {
        case "password" when form["username"] == "alice" && form["password"] == "Pass123$":
            subject = "alice";
            break;
        case "refresh_token" when live.TryRemove(Hash(form["refresh_token"].ToString()), out var owner):
            subject = owner;
            break;
        default:
            return Error(400, "invalid_grant");
    }

    var refreshToken = Base64Url(RandomNumberGenerator.GetBytes(32));
    live[Hash(refreshToken)] = subject;
    var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
    {
        ["iss"] = issuer, ["exp"] = now + 300, ["iat"] = now, ["nbf"] = now, ["sub"] = subject,
        ["aud"] = "sample-api", ["client_id"] = "postman", ["scope"] = "offline_access api",
        ["jti"] = Guid.NewGuid().ToString(), ["oi_prst"] = "postman",
    }));
    var signed = Encoding.ASCII.GetBytes(header + "." + payload);
    var signature = signing switch
    {
        "RS256" => rsa.SignData(signed, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        "ES256" => ecdsa.SignData(signed, HashAlgorithmName.SHA256),
        _ => [],
    };
    return Results.Json(new Dictionary<string, object>
    {
        ["access_token"] = header + "." + payload + "." + Base64Url(signature), ["token_type"] = "Bearer",
        ["expires_in"] = 300, ["scope"] = "offline_access api", ["refresh_token"] = refreshToken,
    });
});
app.Run();

static IResult Error(int status, string error) =>
    Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = error }, statusCode: status);

static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
