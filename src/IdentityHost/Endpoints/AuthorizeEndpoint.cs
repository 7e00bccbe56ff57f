using System.Security.Claims;
using System.Text.Json;
using IdentityHost.Audit;
using IdentityHost.Hosting;
using IdentityHost.Tokens;
using IdentityHost.Storage;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Http.Extensions;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Endpoints;

/// <summary>
/// <c>GET|POST /connect/authorize</c> (authorization code + PKCE). OpenIddict has validated the client, the exact
/// redirect URI, the response type and the S256 code challenge; anything wrong there never reaches this endpoint.
/// Here: a browser without a session goes to the login page; a signed-in user gets a code. Only first-party clients
/// use this flow (validated at start-up), so consent is implicit. Each code starts a token family tied to the browser
/// session, which <c>/connect/endsession</c> revokes.
/// </summary>
public static class AuthorizeEndpoint
{
    /// <summary>Property on the family (authorization) naming the browser session that created it.</summary>
    public const string SessionProperty = "ih_sid";

    public static IEndpointRouteBuilder MapAuthorizeEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMethods("connect/authorize", [HttpMethods.Get, HttpMethods.Post], HandleAsync).ExcludeFromDescription().DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> HandleAsync(
        HttpContext context,
        UserManager<ApplicationUser> users,
        ClaimsFactory claims,
        TokenPolicy policy,
        IOpenIddictApplicationManager applications,
        IOpenIddictAuthorizationManager authorizations,
        TimeProvider time,
        SecurityEvents events)
    {
        var request = context.GetOpenIddictServerRequest() ??
            throw new InvalidOperationException("The OpenIddict server request cannot be retrieved.");

        var session = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = session.Succeeded ? await users.GetUserAsync(session.Principal) : null;
        if (user is null || MustPromptAgain(request, session, time))
        {
            return request.HasPromptValue(PromptValues.None)
                ? ProtocolResults.Forbid(Errors.LoginRequired, "The user is not signed in.")
                : Results.Challenge(new AuthenticationProperties { RedirectUri = ReturnUrl(context, request) }, [IdentityConstants.ApplicationScheme]);
        }

        if (policy.FindDisallowedScope(request.ClientId!, request.GetScopes()) is { } disallowed)
        {
            return ProtocolResults.Forbid(Errors.InvalidScope, $"The client is not allowed to request the '{disallowed}' scope.");
        }

        var sessionId = session.Properties?.GetString(SessionProperty) ?? "";
        var principal = new ClaimsPrincipal(claims.CreateUserIdentity(user, request.GetScopes(), sessionId));
        policy.TryApply(principal, request.ClientId!, request.GetScopes());

        // The family is created here rather than ad hoc by OpenIddict, so it can remember the browser session.
        var application = await applications.FindByClientIdAsync(request.ClientId!) ??
            throw new InvalidOperationException("The client validated by OpenIddict cannot be found.");
        var descriptor = new OpenIddictAuthorizationDescriptor
        {
            ApplicationId = await applications.GetIdAsync(application),
            CreationDate = time.GetUtcNow(),
            Principal = principal,
            Status = Statuses.Valid,
            Subject = user.Id,
            Type = AuthorizationTypes.AdHoc,
        };
        descriptor.Scopes.UnionWith(principal.GetScopes());
        descriptor.Properties[SessionProperty] = JsonSerializer.SerializeToElement(sessionId);
        principal.SetAuthorizationId(await authorizations.GetIdAsync(await authorizations.CreateAsync(descriptor)));
        events.FamilyCreated(principal.GetAuthorizationId(), request.ClientId, user.Id, sessionId);
        return ProtocolResults.SignIn(principal);
    }

    /// <summary>
    /// <c>prompt=login</c> or an exceeded <c>max_age</c> asks for a fresh sign-in. The login page returns to a URL
    /// without <c>prompt</c>, so this cannot loop. <c>max_age</c> is compared in seconds: any long is accepted by
    /// OpenIddict, and most do not fit in a TimeSpan.
    /// </summary>
    private static bool MustPromptAgain(OpenIddictRequest request, AuthenticateResult session, TimeProvider time) =>
        request.HasPromptValue(PromptValues.Login) ||
        (request.MaxAge is { } maxAge && session.Properties?.IssuedUtc is { } issued && (time.GetUtcNow() - issued).TotalSeconds > maxAge);

    /// <summary>Where the login page sends the browser back to: this request, as a local GET URL.</summary>
    private static string ReturnUrl(HttpContext context, OpenIddictRequest request)
    {
        var parameters = request.GetParameters()
            .Where(parameter => parameter.Key != Parameters.Prompt)
            .Select(parameter => KeyValuePair.Create(parameter.Key, (string?)parameter.Value.ToString()));
        return context.Request.PathBase + context.Request.Path + QueryString.Create(parameters);
    }
}
