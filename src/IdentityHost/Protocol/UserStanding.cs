using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityHost.Protocol;

/// <summary>
/// ASP.NET Core Identity's answers to "may this user still get tokens?" for a user already read (by
/// <see cref="Storage.Lean.LeanUserReader"/>), without building a <see cref="UserManager{TUser}"/> and a
/// <see cref="SignInManager{TUser}"/> on every refresh (their constructors and the services behind them were ~1.5 % of
/// a refresh's CPU). Each check does exactly what Identity 10's does on the same user; where Identity would consult a
/// replaceable service (<see cref="IUserConfirmation{TUser}"/> for <c>RequireConfirmedAccount</c>), Identity itself is
/// asked.
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

    /// <summary>
    /// <see cref="UserManager{TUser}.IsLockedOutAsync"/>: lockout enabled and its end not yet passed. Identity compares
    /// with the system clock (not a <see cref="TimeProvider"/>) when it sets and checks lockouts, so this does too.
    /// </summary>
    public static bool IsLockedOut(ApplicationUser user) => user.LockoutEnabled && user.LockoutEnd >= DateTimeOffset.UtcNow;

    /// <summary><see cref="UserManager{TUser}.GetSecurityStampAsync"/>: the stamp, which Identity never leaves empty.</summary>
    public static string SecurityStamp(ApplicationUser user) =>
        user.SecurityStamp ?? throw new InvalidOperationException("The user has no security stamp.");
}
