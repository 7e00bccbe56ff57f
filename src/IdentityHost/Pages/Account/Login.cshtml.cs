using System.Globalization;
using IdentityHost.Accounts;
using IdentityHost.Audit;
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
/// towards Identity's lock-out; attempts spend the sign-in budget (<c>IdentityHost:RateLimits:Login</c>). The page only
/// ever redirects to a local URL (the authorization request it came from).
/// </summary>
public sealed class LoginModel(
    PasswordSignIn passwords,
    RequestBudgets budgets,
    SignInManager<ApplicationUser> signIn,
    IOpenIddictApplicationManager applications,
    ILogger<LoginModel> logger) : PageModel
{
    private const string InvalidCredentials = "The user name or password is incorrect.";

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

        // The sign-in budget per IP and per user name, shared with the password grant and the JSON facade.
        if (budgets.ChargePasswordAttempt(HttpContext.Connection.RemoteIpAddress, UserName) is { } wait)
        {
            return TooManyAttempts(wait);
        }

        // The session id survives cookie renewals (it is a property, not a claim); token families remember it.
        var sessionId = Guid.NewGuid().ToString("N");
        var (result, user) = await passwords.CheckAsync(UserName, Password, SignInPath.LoginPage, ReturnClientId(), sessionId);
        if (result == PasswordCheck.Succeeded)
        {
            var session = new AuthenticationProperties { Items = { [AuthorizeEndpoint.SessionProperty] = sessionId } };
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

    private ContentResult TooManyAttempts(TimeSpan wait)
    {
        var seconds = IdentityHost.Engine.TokenRequestLimits.Seconds(wait);
        Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        Response.Headers.CacheControl = "no-store";
        return new ContentResult
        {
            StatusCode = StatusCodes.Status429TooManyRequests,
            ContentType = "text/plain; charset=utf-8",
            Content = $"Too many sign-in attempts. Try again in {seconds} seconds.",
        };
    }

    private async Task<string?> FindClientNameAsync()
    {
        var clientId = ReturnClientId();
        var application = string.IsNullOrEmpty(clientId) ? null : await applications.FindByClientIdAsync(clientId);
        return application is null ? null : await applications.GetLocalizedDisplayNameAsync(application);
    }

    /// <summary>The client_id of the authorization request the page returns to, if any.</summary>
    private string? ReturnClientId() =>
        Url.IsLocalUrl(ReturnUrl) && Uri.TryCreate(new Uri("http://local"), ReturnUrl, out var uri) &&
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(uri.Query).TryGetValue(OpenIddictConstants.Parameters.ClientId, out var values)
            ? values.ToString()
            : null;
}
