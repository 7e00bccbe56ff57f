using IdentityHost.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Endpoints;

/// <summary>
/// <c>GET|POST /connect/userinfo</c> (OIDC Core §5.3). OpenIddict has validated the access token; claims come fresh
/// from the user store and only for the scopes the token carries.
/// </summary>
public static class UserInfoEndpoint
{
    public static IEndpointRouteBuilder MapUserInfoEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMethods("connect/userinfo", [HttpMethods.Get, HttpMethods.Post], HandleAsync).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, UserManager<ApplicationUser> users)
    {
        var principal = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal ??
            throw new InvalidOperationException("The access token principal cannot be retrieved.");

        if (!principal.HasScope(Scopes.OpenId))
        {
            return ProtocolResults.Challenge(Errors.InsufficientScope, "The userinfo endpoint requires an access token granted the 'openid' scope.");
        }

        var user = await users.FindByIdAsync(principal.GetClaim(Claims.Subject) ?? "");
        if (user is null)
        {
            return ProtocolResults.Challenge(Errors.InvalidToken, "The user this token was issued to no longer exists.");
        }

        var claims = new Dictionary<string, object?>(StringComparer.Ordinal) { [Claims.Subject] = user.Id };
        if (principal.HasScope(Scopes.Profile))
        {
            claims[Claims.Name] = user.UserName;
            claims[Claims.PreferredUsername] = user.UserName;
        }

        if (principal.HasScope(Scopes.Email) && !string.IsNullOrEmpty(user.Email))
        {
            claims[Claims.Email] = user.Email;
            claims[Claims.EmailVerified] = user.EmailConfirmed;
        }

        return Results.Json(claims);
    }
}
