using IdentityHost.RefreshTokens;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;

namespace IdentityHost.Accounts;

/// <summary>
/// An administrator's lock (<c>-- users lock NAME</c>), as opposed to the lock-out Identity sets after repeated wrong
/// passwords. Both use Identity's lock-out fields, so both stop new sign-ins, but only this one ends the user's refresh
/// tokens: a failed-password lock-out can be triggered by anyone who knows a user name, and must never sign the user
/// out. An administrator's lock has no end (<see cref="DateTimeOffset.MaxValue"/>); Identity's lasts
/// <c>Lockout.DefaultLockoutTimeSpan</c> (5 minutes), so the two cannot be confused.
/// </summary>
public static class AdministratorLock
{
    /// <summary>
    /// Any lock-out ending in the year 9999 is an administrator's: PostgreSQL keeps microseconds, so a stored
    /// <see cref="DateTimeOffset.MaxValue"/> may come back a fraction of a microsecond short.
    /// </summary>
    private static readonly DateTimeOffset Threshold = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static bool IsLocked(ApplicationUser user) => user.LockoutEnabled && user.LockoutEnd >= Threshold;

    /// <summary>
    /// Locks the user with no end, then signs them out everywhere (<see cref="TokenFamilies.RevokeAllAsync"/>: the security stamp is
    /// renewed and every token family revoked). Returns the number of families revoked.
    /// </summary>
    public static async Task<long> LockAsync(UserManager<ApplicationUser> users, TokenFamilies families, ApplicationUser user)
    {
        Check(await users.SetLockoutEnabledAsync(user, true), user);
        Check(await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue), user);
        var (revoked, _) = await families.RevokeAllAsync(user, FamilyRevocationReason.Administrator);
        return revoked;
    }

    /// <summary>Ends any lock-out, an administrator's or Identity's, and clears the count of failed attempts.</summary>
    public static async Task UnlockAsync(UserManager<ApplicationUser> users, ApplicationUser user)
    {
        if (user.LockoutEnabled)
        {
            // Identity refuses to set a lock-out end on a user whose lock-out is disabled; such a user is not locked.
            Check(await users.SetLockoutEndDateAsync(user, null), user);
        }

        Check(await users.ResetAccessFailedCountAsync(user), user);
    }

    private static void Check(IdentityResult result, ApplicationUser user)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"Cannot change the lock-out of user {user.Id}: {string.Join("; ", result.Errors.Select(error => error.Description))}");
        }
    }
}
