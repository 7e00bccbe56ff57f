using IdentityHost.Accounts;
using IdentityHost.Endpoints;
using IdentityHost.Hosting;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenIddict.Abstractions;

namespace IdentityHost.Pages.Account;

/// <summary>
/// The login page the authorization endpoint sends browsers to. An unknown user, a wrong password and a locked account
/// given a wrong password get the same message in comparable time (<see cref="PasswordSignIn"/>); wrong passwords count
/// towards Identity's lock-out. The page only ever redirects to a local URL (the authorization request it came from).
/// </summary>
public sealed class LoginModel(
    PasswordSignIn passwords,
    SignInManager<ApplicationUser> signIn,
    IOpenIddictApplicationManager applications,
    ILogger<LoginModel> logger) : PageModel
{
    public const string InvalidCredentials = "The user name or password is incorrect.";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string UserName { get; set; } = "";

    [BindProperty]
    public string Password { get; set; } = "";

    public string? Error { get; private set; }

    public string? ClientName { get; private set; }

    public async Task OnGetAsync() => ClientName = await FindClientNameAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        ClientName = await FindClientNameAsync();
        if (string.IsNullOrWhiteSpace(UserName) || string.IsNullOrEmpty(Password))
        {
            Error = InvalidCredentials;
            return Page();
        }

        var (result, user) = await passwords.CheckAsync(UserName, Password);
        if (result == PasswordCheck.Succeeded)
        {
            // The session id survives cookie renewals (it is a property, not a claim); token families remember it.
            var session = new AuthenticationProperties { Items = { [AuthorizeEndpoint.SessionProperty] = Guid.NewGuid().ToString("N") } };
            await signIn.SignInAsync(user!, session, authenticationMethod: "pwd");
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : InteractiveSignInExtensions.SignedInPath);
        }

        if (result is PasswordCheck.LockedOut or PasswordCheck.LockedByAdministrator)
        {
            logger.LogWarning("Login refused for locked user {UserId}", user!.Id);
        }

        Error = result switch
        {
            PasswordCheck.LockedOut => "This account is temporarily locked after repeated failed sign-in attempts. Try again later.",
            PasswordCheck.LockedByAdministrator => "This account is locked. Contact your administrator.",
            PasswordCheck.NotAllowed => "This account is not allowed to sign in.",
            _ => InvalidCredentials,
        };
        return Page();
    }

    private async Task<string?> FindClientNameAsync()
    {
        if (!Url.IsLocalUrl(ReturnUrl) || !Uri.TryCreate(new Uri("http://local"), ReturnUrl, out var uri))
        {
            return null;
        }

        var clientId = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(uri.Query).TryGetValue(OpenIddictConstants.Parameters.ClientId, out var values)
            ? values.ToString()
            : null;
        var application = string.IsNullOrEmpty(clientId) ? null : await applications.FindByClientIdAsync(clientId);
        return application is null ? null : await applications.GetLocalizedDisplayNameAsync(application);
    }
}
