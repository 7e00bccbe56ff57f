using IdentityHost.Endpoints;
using IdentityHost.RefreshTokens;
using IdentityHost.Storage;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;

namespace IdentityHost.Pages.Connect;

/// <summary>
/// The end-session endpoint (rules in <see cref="EndSessionEndpoint"/>): ends the session at once when the request may,
/// otherwise renders the confirmation form, which posts the logout request back with an antiforgery token.
/// </summary>
[IgnoreAntiforgeryToken] // clients may POST the logout request itself; only the confirmation needs the token (checked below)
public sealed class EndSessionModel(
    UserManager<ApplicationUser> users, IOpenIddictAuthorizationManager authorizations, TokenFamilies families, IAntiforgery antiforgery) : PageModel
{
    private static readonly string[] FormFields = ["__RequestVerificationToken", "handler"];

    /// <summary>The logout request's parameters (post_logout_redirect_uri, state, …), posted back with the confirmation.</summary>
    public IReadOnlyList<(string Name, string Value)> Parameters { get; private set; } = [];

    public Task<IActionResult> OnGetAsync() => HandleAsync();

    public Task<IActionResult> OnPostAsync() => HandleAsync();

    /// <summary>The user confirmed on the page: with a valid antiforgery token, the session ends.</summary>
    public async Task<IActionResult> OnPostConfirmAsync()
    {
        if (!await antiforgery.IsRequestValidAsync(HttpContext))
        {
            return BadRequest();
        }

        return await EndAsync(await EndSessionEndpoint.FindSessionAsync(HttpContext, users));
    }

    private async Task<IActionResult> HandleAsync()
    {
        var request = HttpContext.GetOpenIddictServerRequest() ??
            throw new InvalidOperationException("The OpenIddict server request cannot be retrieved.");

        var session = await EndSessionEndpoint.FindSessionAsync(HttpContext, users);
        if (await EndSessionEndpoint.MayEndAtOnceAsync(HttpContext, session))
        {
            return await EndAsync(session);
        }

        Parameters = request.GetParameters()
            .Where(parameter => !FormFields.Contains(parameter.Key, StringComparer.OrdinalIgnoreCase))
            .Select(parameter => (parameter.Key, Value: (string?)parameter.Value))
            .Where(parameter => parameter.Value is not null)
            .Select(parameter => (parameter.Key, parameter.Value!))
            .ToList();

        // Never framed: another site could lay the page under a decoy and have its button clicked.
        Response.Headers.XFrameOptions = "DENY";
        Response.Headers.ContentSecurityPolicy = "frame-ancestors 'none'";
        return Page();
    }

    private async Task<IActionResult> EndAsync((string Subject, string SessionId)? session)
    {
        await EndSessionEndpoint.EndAsync(HttpContext, session, authorizations, families);
        return SignOut(EndSessionEndpoint.SignOutProperties, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }
}
