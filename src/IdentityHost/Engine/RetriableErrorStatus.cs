using Microsoft.AspNetCore;
using Microsoft.Net.Http.Headers;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// A token response with <c>temporarily_unavailable</c> (the rotation could not be written, see
/// <see cref="RefreshTokens.Rotation"/>) is sent as <c>503</c> with <c>Retry-After</c>, which clients and proxies retry;
/// OpenIddict's ASP.NET Core host answers <c>400</c> to every error code it does not know. Runs right after the host
/// has set the status code, before it writes the body.
/// </summary>
public sealed class RetriableErrorStatus : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    /// <summary>How long a client should wait before retrying.</summary>
    public const int RetryAfterSeconds = 1;

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        if (context.Error == Errors.TemporarilyUnavailable && context.Transaction.GetHttpRequest()?.HttpContext.Response is { } response)
        {
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            response.Headers[HeaderNames.RetryAfter] = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return ValueTask.CompletedTask;
    }
}
