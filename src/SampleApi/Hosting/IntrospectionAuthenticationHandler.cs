using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SampleApi.Configuration;

namespace SampleApi.Hosting;

/// <summary>
/// <c>SampleApi:Validation = Introspection</c>: a Bearer token is valid only while the authority says it is active
/// (RFC 7662), so a revoked token is refused as soon as any cached answer runs out. The answer is then checked like a
/// JWT in Jwt mode: issuer, audience (RFC 9068 §4: it must contain <c>SampleApi:Audience</c>), expiry with clock skew.
/// The 401 and 403 answers are the same as JwtBearer's.
/// </summary>
public sealed class IntrospectionAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IntrospectionClient introspection,
    IntrospectionCache cache,
    DpopResourceCheck dpop,
    IOptions<SampleApiOptions> settings)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Introspection";

    private const string IntrospectionFailed = "Token introspection failed; the access token could not be validated.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (DpopResourceCheck.ReadToken(Context) is not { } token)
        {
            return AuthenticateResult.NoResult();
        }

        var response = cache.Get(token);
        if (response is null)
        {
            response = await introspection.IntrospectAsync(token, Context.RequestAborted);
            if (response is null)
            {
                return AuthenticateResult.Fail(IntrospectionFailed);
            }

            cache.Set(token, response);
        }

        var api = settings.Value;
        if (Refusal(response, api) is { } refusal)
        {
            Logger.LogInformation("Bearer token refused: {Reason}", refusal);
            return AuthenticateResult.Fail(refusal);
        }

        if (dpop.Check(Context, token, response.ConfirmationJkt) is { } failure)
        {
            return AuthenticateResult.Fail(failure.Description);
        }

        var identity = new ClaimsIdentity(response.ToClaims(api.Authority.AbsoluteUri), Scheme.Name, nameType: "sub", roleType: "role");
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = BearerChallenges.DpopAware(Context, result.Failure?.Message) ??
            (result.Failure is AuthenticationFailureException failure ? BearerChallenges.InvalidToken(failure.Message) : BearerChallenges.Bare);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        BearerChallenges.WriteInsufficientScope(Response);
        return Task.CompletedTask;
    }

    /// <summary>Why an introspection answer does not authenticate the caller; null when it does.</summary>
    private string? Refusal(IntrospectionResponse response, SampleApiOptions api)
    {
        if (!response.Active)
        {
            // RFC 7662 says only active:false, whether the token expired, was revoked or never existed.
            return "The access token is not active (expired or revoked).";
        }

        if (response.TokenUsage is { } usage && usage != "access_token")
        {
            return "The token is not an access token.";
        }

        if (response.Issuer != api.Authority.AbsoluteUri)
        {
            return "The access token was not issued by the trusted issuer.";
        }

        // As in Jwt mode (RFC 9068 §4): a token without aud, or whose aud lacks this API, is not for this API.
        if (!response.Audiences.Contains(api.Audience, StringComparer.Ordinal))
        {
            return "The audience of the access token is invalid.";
        }

        // As in Jwt mode: exp is required, and exp and nbf are judged with the configured clock skew.
        var now = TimeProvider.GetUtcNow();
        if (response.ExpiresAt is not { } expiresAt)
        {
            return "The access token has no expiration time.";
        }

        if (expiresAt + api.ClockSkew < now)
        {
            return $"The access token expired at '{Format(expiresAt)}'.";
        }

        return response.NotBefore is { } notBefore && notBefore - api.ClockSkew > now
            ? $"The access token is not valid before '{Format(notBefore)}'."
            : null;
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("u", CultureInfo.InvariantCulture);
}
