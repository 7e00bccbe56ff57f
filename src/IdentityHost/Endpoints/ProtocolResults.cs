using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;

namespace IdentityHost.Endpoints;

/// <summary>Results that hand control back to OpenIddict, which renders them as RFC 6749 responses.</summary>
public static class ProtocolResults
{
    /// <summary>
    /// Issues the tokens for <paramref name="principal"/>. If a replay revokes the family while this request is still
    /// storing its new tokens, OpenIddict's write of those rows fails its concurrency check: that is the family's end,
    /// answered as <c>invalid_grant</c>, never a 500.
    /// </summary>
    public static IResult SignIn(ClaimsPrincipal principal) => new RaceSafeSignIn(principal);

    /// <summary>A protocol failure: OpenIddict answers with <c>error</c> and <c>error_description</c>.</summary>
    public static IResult Forbid(string error, string description) =>
        Results.Forbid(ErrorProperties(error, description), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    /// <summary>A bearer-token failure at a resource endpoint (userinfo): 401 with <c>WWW-Authenticate</c>.</summary>
    public static IResult Challenge(string error, string description) =>
        Results.Challenge(ErrorProperties(error, description), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    private sealed class RaceSafeSignIn(ClaimsPrincipal principal) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            try
            {
                await context.SignInAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, principal);
            }
            catch (OpenIddictExceptions.ConcurrencyException) when (!context.Response.HasStarted)
            {
                await Forbid(OpenIddictConstants.Errors.InvalidGrant,
                    "The token family was revoked while this request was being processed; sign in again.").ExecuteAsync(context);
            }
        }
    }

    private static AuthenticationProperties ErrorProperties(string error, string description) => new(new Dictionary<string, string?>
    {
        [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
        [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
    });
}
