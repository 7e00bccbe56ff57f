using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Server.AspNetCore;

namespace IdentityHost.Protocol;

/// <summary>Results that hand control back to OpenIddict, which renders them as RFC 6749 responses.</summary>
public static class ProtocolResults
{
    /// <summary>Issues the tokens for <paramref name="principal"/>.</summary>
    public static IResult SignIn(ClaimsPrincipal principal) =>
        Results.SignIn(principal, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    /// <summary>A protocol failure: OpenIddict answers with <c>error</c> and <c>error_description</c>.</summary>
    public static IResult Forbid(string error, string description) =>
        Results.Forbid(ErrorProperties(error, description), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    /// <summary>A bearer-token failure at a resource endpoint (userinfo): 401 with <c>WWW-Authenticate</c>.</summary>
    public static IResult Challenge(string error, string description) =>
        Results.Challenge(ErrorProperties(error, description), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    private static AuthenticationProperties ErrorProperties(string error, string description) => new(new Dictionary<string, string?>
    {
        [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
        [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
    });
}
