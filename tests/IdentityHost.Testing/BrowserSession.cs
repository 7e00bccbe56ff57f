using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityHost.Testing;

/// <summary>
/// A browser's view of the authorization code flow over real HTTP: its own cookie jar, no automatic redirects, the
/// login form posted with its antiforgery token, and PKCE done as an SPA would.
/// </summary>
public sealed partial class BrowserSession(IdentityHostFactory factory, CookieContainer? cookies = null)
{
    public const string SpaRedirectUri = "http://localhost:5002/callback.html";

    /// <summary>The cookie jar; hand it to a session on another instance to continue the same browser session there.</summary>
    public CookieContainer Cookies { get; } = cookies ?? new CookieContainer();

    public HttpClient Http => http ??= new HttpClient(new CookieJarHandler(Cookies) { InnerHandler = factory.Server.CreateHandler() })
    {
        BaseAddress = factory.Server.BaseAddress,
    };

    private HttpClient? http;

    public string CodeVerifier { get; } = Base64Url(RandomNumberGenerator.GetBytes(32));

    public string CodeChallenge => Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(CodeVerifier)));

    /// <summary>The authorization request of client <c>spa</c>, with overridable parameters (null removes one).</summary>
    public string AuthorizeUrl(Dictionary<string, string?>? overrides = null)
    {
        var parameters = new Dictionary<string, string?>
        {
            ["client_id"] = "spa",
            ["response_type"] = "code",
            ["redirect_uri"] = SpaRedirectUri,
            ["scope"] = "openid profile offline_access api",
            ["state"] = "state-123",
            ["code_challenge"] = CodeChallenge,
            ["code_challenge_method"] = "S256",
        };
        foreach (var (key, value) in overrides ?? [])
        {
            parameters[key] = value;
        }

        return QueryHelpers.AddQueryString("/connect/authorize", parameters.Where(parameter => parameter.Value is not null)!);
    }

    /// <summary>GETs the login page at <paramref name="loginUrl"/> and posts the credentials with its antiforgery token.</summary>
    public async Task<HttpResponseMessage> SubmitLoginAsync(string loginUrl, string userName, string password)
    {
        var page = await Http.GetStringAsync(loginUrl);
        var form = new Dictionary<string, string>
        {
            ["UserName"] = userName,
            ["Password"] = password,
            ["__RequestVerificationToken"] = AntiforgeryToken().Match(page).Groups[1].Value,
        };
        var returnUrl = ReturnUrlField().Match(page);
        if (returnUrl.Success)
        {
            form["ReturnUrl"] = WebUtility.HtmlDecode(returnUrl.Groups[1].Value);
        }

        return await Http.PostAsync(loginUrl, new FormUrlEncodedContent(form));
    }

    /// <summary>Runs authorize → login → authorize and returns the final redirect to the client (with code or error).</summary>
    public async Task<Uri> AuthorizeAsync(string userName = "alice", string password = TokenClient.Password, Dictionary<string, string?>? overrides = null)
    {
        var response = await Http.GetAsync(AuthorizeUrl(overrides));
        if (response.Headers.Location is { } login && login.OriginalString.Contains("/account/login", StringComparison.Ordinal))
        {
            var posted = await SubmitLoginAsync(login.OriginalString, userName, password);
            if (posted.StatusCode != HttpStatusCode.Redirect)
            {
                throw new InvalidOperationException($"Login did not redirect: {(int)posted.StatusCode}");
            }

            response = await Http.GetAsync(posted.Headers.Location);
        }

        return response.Headers.Location ?? throw new InvalidOperationException($"Authorize did not redirect: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static string? QueryValue(Uri redirect, string name) =>
        QueryHelpers.ParseQuery(redirect.Query).TryGetValue(name, out var value) ? value.ToString() : null;

    /// <summary>Redeems the code at the token endpoint as the public client <c>spa</c>.</summary>
    public Task<ProtocolResponse> RedeemAsync(string code, string? verifier = null) =>
        new TokenClient(Http).PostAsync("connect/token", "spa", null, new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = SpaRedirectUri,
            ["code_verifier"] = verifier ?? CodeVerifier,
        });

    /// <summary>Sends the jar's cookies and stores the ones the server sets, like a browser (no redirects followed).</summary>
    private sealed class CookieJarHandler(CookieContainer jar) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var header = jar.GetCookieHeader(request.RequestUri!);
            if (header.Length > 0)
            {
                request.Headers.Add("Cookie", header);
            }

            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("Set-Cookie", out var values))
            {
                foreach (var value in values)
                {
                    jar.SetCookies(request.RequestUri!, value);
                }
            }

            return response;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    [GeneratedRegex("name=\"ReturnUrl\" value=\"([^\"]*)\"")]
    private static partial Regex ReturnUrlField();
}
