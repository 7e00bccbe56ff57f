using IdentityHost.Accounts;
using IdentityHost.Audit;
using IdentityHost.RefreshTokens;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;

namespace IdentityHost.Commands;

/// <summary>
/// <c>-- users lock NAME</c> and <c>-- users unlock NAME</c> (a user name or id). A lock stops new sign-ins and ends
/// the user's refresh tokens at once (<see cref="AdministratorLock"/>); an unlock also ends a failed-password
/// lock-out and clears the failed-attempt count.
/// </summary>
internal static class UserCommands
{
    public static async Task<int> LockAsync(IServiceProvider services, string nameOrId)
    {
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        if (await FindAsync(users, nameOrId) is not { } user)
        {
            return await UnknownUserAsync(nameOrId);
        }

        var families = await AdministratorLock.LockAsync(users, services.GetRequiredService<TokenFamilies>(), user);
        await services.GetRequiredService<SecurityEvents>().UserLockedAsync(user.Id);
        Console.WriteLine($"Locked {user.UserName} ({user.Id}): no new sign-ins, {families} token famil(ies) revoked.");
        return 0;
    }

    public static async Task<int> UnlockAsync(IServiceProvider services, string nameOrId)
    {
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        if (await FindAsync(users, nameOrId) is not { } user)
        {
            return await UnknownUserAsync(nameOrId);
        }

        await AdministratorLock.UnlockAsync(users, user);
        await services.GetRequiredService<SecurityEvents>().UserUnlockedAsync(user.Id);
        Console.WriteLine($"Unlocked {user.UserName} ({user.Id}): the user can sign in again.");
        return 0;
    }

    private static async Task<ApplicationUser?> FindAsync(UserManager<ApplicationUser> users, string nameOrId) =>
        await users.FindByNameAsync(nameOrId) ?? await users.FindByIdAsync(nameOrId);

    private static async Task<int> UnknownUserAsync(string nameOrId)
    {
        await Console.Error.WriteLineAsync($"No user named or with id '{nameOrId}'.");
        return 2;
    }
}
