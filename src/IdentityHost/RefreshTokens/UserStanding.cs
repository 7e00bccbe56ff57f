using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityHost.RefreshTokens;

/// <summary>
/// ASP.NET Core Identity's answers to "may this user still get tokens?" for a user already read (by
/// <see cref="Storage.Stores.UserReader"/>), without building a <see cref="UserManager{TUser}"/> and a
/// <see cref="SignInManager{TUser}"/> on every refresh (their constructors and the services behind them were ~1.5 % of
/// a refresh's CPU). Each check does exactly what Identity 10's does on the same user; where Identity would consult a
/// replaceable service (<see cref="IUserConfirmation{TUser}"/> for <c>RequireConfirmedAccount</c>), Identity itself is
/// asked. Lock-out is deliberately not a check here: failed passwords lock new sign-ins only (an attacker who knows a
/// user name must not be able to sign that user out); an administrator's lock renews the security stamp instead.
/// </summary>
public sealed class UserStanding(IOptions<IdentityOptions> identity, IServiceProvider services)
{
    /// <summary><see cref="SignInManager{TUser}.CanSignInAsync"/>: the confirmations the sign-in options require.</summary>
    public Task<bool> CanSignInAsync(ApplicationUser user)
    {
        var signIn = identity.Value.SignIn;
        if ((signIn.RequireConfirmedEmail && !user.EmailConfirmed) || (signIn.RequireConfirmedPhoneNumber && !user.PhoneNumberConfirmed))
        {
            return Task.FromResult(false);
        }

        return signIn.RequireConfirmedAccount
            ? services.GetRequiredService<SignInManager<ApplicationUser>>().CanSignInAsync(user)
            : Task.FromResult(true);
    }

    /// <summary><see cref="UserManager{TUser}.GetSecurityStampAsync"/>: the stamp, which Identity never leaves empty.</summary>
    public static string SecurityStamp(ApplicationUser user) =>
        user.SecurityStamp ?? throw new InvalidOperationException("The user has no security stamp.");
}
