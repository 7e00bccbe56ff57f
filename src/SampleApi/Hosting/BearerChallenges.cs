namespace SampleApi.Hosting;

/// <summary>
/// The RFC 6750 <c>WWW-Authenticate</c> answers, shared by both validation modes so a client sees the same 401 and 403
/// whichever one the API runs.
/// </summary>
public static class BearerChallenges
{
    /// <summary>No token, or a scheme other than Bearer: the bare challenge (RFC 6750 §3.1 sends no error code).</summary>
    public const string Bare = "Bearer";

    /// <summary>RFC 6750 §3.1: a token that is expired, revoked, malformed or for someone else.</summary>
    public static string InvalidToken(string description) =>
        $"Bearer error=\"invalid_token\", error_description=\"{description}\"";

    /// <summary>
    /// The challenge when DPoP is involved, or null for the plain Bearer one: a refusal by the DPoP rules answers with
    /// its own scheme and error; any other token failure of a request made with the DPoP scheme is a DPoP
    /// <c>invalid_token</c> challenge (RFC 9449 §7.1).
    /// </summary>
    public static string? DpopAware(HttpContext context, string? tokenFailure)
    {
        if (DpopResourceCheck.FailureOf(context) is { } failure)
        {
            return failure.Scheme == DpopResourceCheck.Scheme
                ? DpopResourceCheck.Challenge(failure.Error, failure.Description)
                : InvalidToken(failure.Description);
        }

        if (!DpopResourceCheck.UsedDpop(context))
        {
            return null;
        }

        return string.IsNullOrEmpty(tokenFailure)
            ? DpopResourceCheck.Challenge(null, null)
            : DpopResourceCheck.Challenge(DpopResourceCheck.InvalidToken, tokenFailure);
    }

    /// <summary>
    /// RFC 6750 §3.1: a valid token without the needed scope is 403 insufficient_scope, naming the scope the endpoint
    /// requires (its <see cref="RequiredScope"/>).
    /// </summary>
    public static void WriteInsufficientScope(HttpResponse response)
    {
        var scope = response.HttpContext.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>()?.Scope ?? AuthenticationExtensions.ApiScope;
        response.Headers.WWWAuthenticate =
            $"Bearer error=\"insufficient_scope\", error_description=\"The access token lacks the '{scope}' scope.\", scope=\"{scope}\"";
    }
}

/// <summary>Endpoint metadata: the scope an endpoint requires, named in its 403 answer.</summary>
public sealed record RequiredScope(string Scope);
