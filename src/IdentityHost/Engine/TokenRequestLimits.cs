using System.Globalization;
using IdentityHost.Hosting;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// The token endpoint's budgets that depend on who is asking (<see cref="RequestBudgets"/>), charged by OpenIddict
/// handlers once the client has authenticated and before any token is validated, so a refused request spends nothing:
/// <list type="bullet">
/// <item>a confidential client's own budget, which only a request holding its credentials can spend (counted before
/// authentication, four addresses could exhaust a client for everyone); a public client's per client and IP;</item>
/// <item>for the password grant (the facade's <c>/api/token</c> included), the sign-in budget per IP and per user name
/// that the login page shares.</item>
/// </list>
/// Both handlers are listed in <see cref="EngineHandlers"/>. A refused request gets <c>429</c> with <c>Retry-After</c> and <c>slow_down</c>, like the per-IP limit in front.
/// </summary>
public static class TokenRequestLimits
{
    private const string RetryAfterProperty = "IdentityHost:RateLimits:RetryAfter";
    private const string ChargedProperty = "IdentityHost:RateLimits:Charged";

    /// <summary>The JSON body of a refusal; also used by the rate-limiting middleware.</summary>
    internal static string Description(long seconds) => $"Too many requests. Retry after {seconds} seconds; the request was not processed.";

    internal static long Seconds(TimeSpan retryAfter) => Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));

    /// <summary>Runs right after OpenIddict's client authentication (secret, assertion or certificate) has passed.</summary>
    public sealed class ChargeAuthenticatedClient(RequestBudgets budgets, IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            if (context.EndpointType != OpenIddictServerEndpointType.Token || string.IsNullOrEmpty(context.ClientId) ||
                context.Transaction.Properties.ContainsKey(ChargedProperty))
            {
                return;
            }

            context.Transaction.Properties[ChargedProperty] = true;
            // OpenIddict has just found the client (and, if confidential, checked its credentials); one removed since
            // then is counted as a public one.
            var application = await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken);
            var confidential = application is not null &&
                await applications.HasClientTypeAsync(application, ClientTypes.Confidential, context.CancellationToken);
            var address = context.Transaction.GetHttpRequest()?.HttpContext.Connection.RemoteIpAddress;

            var refusedFor = budgets.ChargeClient(context.ClientId, confidential, address);
            if (refusedFor is null && context.Request.IsPasswordGrantType())
            {
                refusedFor = budgets.ChargePasswordAttempt(address, context.Request.Username);
            }

            if (refusedFor is { } wait)
            {
                context.Transaction.Properties[RetryAfterProperty] = wait;
                context.Reject(error: "slow_down", description: Description(Seconds(wait)));
            }
        }
    }

    /// <summary>Turns the refusal's status (400 for any error but a few) into 429 with <c>Retry-After</c>.</summary>
    public sealed class AttachTooManyRequests : IOpenIddictServerHandler<ApplyTokenResponseContext>
    {
        public ValueTask HandleAsync(ApplyTokenResponseContext context)
        {
            if (context.Transaction.Properties.TryGetValue(RetryAfterProperty, out var value) && value is TimeSpan wait &&
                context.Transaction.GetHttpRequest()?.HttpContext.Response is { } response)
            {
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                response.Headers.RetryAfter = Seconds(wait).ToString(CultureInfo.InvariantCulture);
            }

            return ValueTask.CompletedTask;
        }
    }
}
