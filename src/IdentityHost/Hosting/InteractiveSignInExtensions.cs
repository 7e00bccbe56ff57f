using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHost.Hosting;

public static class InteractiveSignInExtensions
{
    public const string LoginPath = "/account/login";
    public const string SignedOutPath = "/account/signed-out";
    public const string SignedInPath = "/account/signed-in";

    /// <summary>
    /// The browser side of the authorization code flow: ASP.NET Core Identity's session cookie and the server-rendered
    /// login page (Razor Pages, antiforgery on every form).
    /// </summary>
    public static WebApplicationBuilder AddInteractiveSignIn(this WebApplicationBuilder builder)
    {
        // No jQuery-style keys (a[b]=c): the login form has three flat fields, and MVC's jQuery value providers throw
        // (a 500) on a key with an unclosed bracket.
        builder.Services.AddRazorPages().AddMvcOptions(options =>
        {
            options.ValueProviderFactories.RemoveType<JQueryFormValueProviderFactory>();
            options.ValueProviderFactories.RemoveType<JQueryQueryStringValueProviderFactory>();
        });
        builder.Services.AddAuthentication(IdentityConstants.ApplicationScheme).AddIdentityCookies();
        builder.Services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = LoginPath;
            options.Cookie.Name = "IdentityHost.Session";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
        });

        // Sign-out everywhere renews the security stamp; sessions notice within a minute.
        builder.Services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = TimeSpan.FromMinutes(1));
        builder.Services.TryAddScoped<ISecurityStampValidator, SecurityStampValidator<ApplicationUser>>();
        return builder;
    }
}
