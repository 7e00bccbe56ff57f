using IdentityHost.Audit;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;

namespace IdentityHost.Accounts;

/// <summary>What a password check found. Only a correct password learns more than <see cref="Failed"/>.</summary>
public enum PasswordCheck
{
    Succeeded,

    /// <summary>Unknown user, wrong password, or a locked or disallowed account given a wrong password.</summary>
    Failed,

    /// <summary>The right password, on an account locked out after repeated failures.</summary>
    LockedOut,

    /// <summary>The right password, on an account an administrator locked.</summary>
    LockedByAdministrator,

    /// <summary>The right password, on an account that does not meet the sign-in requirements (e.g. a confirmed e-mail).</summary>
    NotAllowed,
}

/// <summary>
/// The one password check behind every password sign-in (the password grant, the JSON facade through it, the login
/// page), built so that its answer and its cost tell an outsider nothing about which accounts exist or are locked:
/// <list type="bullet">
/// <item>every attempt costs one password-hash verification: an unknown user (or one without a password) is checked
/// against a dummy hash made with the same <see cref="IPasswordHasher{TUser}"/>, so it takes as long as a real one;</item>
/// <item>a locked account still has its password checked, and only the right password hears that it is locked; a
/// wrong one gets the answer an unknown user gets;</item>
/// <item>a wrong password counts towards Identity's lock-out (<c>Lockout.MaxFailedAccessAttempts</c>) only while the
/// account is not locked, as Identity's own <c>CheckPasswordSignInAsync</c> does (it does not even check the password
/// then): counting would extend a lock-out without end and overwrite an administrator's lock with a 5-minute one.</item>
/// </list>
/// Guessing is bounded by the shared sign-in budget (<c>IdentityHost:RateLimits:Login</c>), per IP and per user name.
/// Every attempt is a security event (<see cref="SecurityEvents.SignIn"/>), with the user's id when the user exists.
/// </summary>
public sealed class PasswordSignIn(UserManager<ApplicationUser> users, SignInManager<ApplicationUser> signIn, IPasswordHasher<ApplicationUser> hasher, DummyPasswordHash dummy, SecurityEvents events)
{
    public async Task<(PasswordCheck Result, ApplicationUser? User)> CheckAsync(string? userName, string? password, SignInPath path, string? clientId, string? sessionId = null)
    {
        var (result, found) = await CheckPasswordAsync(userName, password);
        events.SignIn(path, result, found?.Id, clientId, sessionId);
        return (result, result == PasswordCheck.Failed ? null : found);
    }

    /// <summary>
    /// The check itself; <c>Found</c> is the user with that name, whatever the result (a failed check's caller gets no
    /// user; the audit trail gets its id).
    /// </summary>
    private async Task<(PasswordCheck Result, ApplicationUser? Found)> CheckPasswordAsync(string? userName, string? password)
    {
        password ??= "";
        var user = string.IsNullOrWhiteSpace(userName) || userName.Contains('\0', StringComparison.Ordinal) ? null : await users.FindByNameAsync(userName);
        if (user?.PasswordHash is null || password.Length == 0)
        {
            hasher.VerifyHashedPassword(DummyPasswordHash.User, dummy.Get(hasher), password);
            return (PasswordCheck.Failed, user);
        }

        var locked = await users.IsLockedOutAsync(user);
        if (!await users.CheckPasswordAsync(user, password))
        {
            if (!locked)
            {
                // As in Identity, a count lost to a concurrent update of the user is not an error.
                await users.AccessFailedAsync(user);
            }

            return (PasswordCheck.Failed, user);
        }

        if (locked)
        {
            return (AdministratorLock.IsLocked(user) ? PasswordCheck.LockedByAdministrator : PasswordCheck.LockedOut, user);
        }

        if (!await signIn.CanSignInAsync(user))
        {
            return (PasswordCheck.NotAllowed, user);
        }

        if (await users.GetAccessFailedCountAsync(user) > 0)
        {
            await users.ResetAccessFailedCountAsync(user);
        }

        return (PasswordCheck.Succeeded, user);
    }
}

/// <summary>
/// A hash of a random password, made once per process with the configured <see cref="IPasswordHasher{TUser}"/> (so with
/// its algorithm and iteration count), that unknown users' attempts are verified against.
/// </summary>
public sealed class DummyPasswordHash
{
    internal static readonly ApplicationUser User = new() { UserName = "" };

    private string? hash;

    public string Get(IPasswordHasher<ApplicationUser> hasher) =>
        LazyInitializer.EnsureInitialized(ref hash, () => hasher.HashPassword(User, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))));
}
