using IdentityHost.Keys;
using IdentityHost.RefreshTokens;
using IdentityHost.Seeding;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;

namespace IdentityHost.Commands;

/// <summary>
/// Operator commands run with the server's own configuration instead of starting it:
/// <c>dotnet run --project src/IdentityHost -- revoke --user alice</c>, <c>-- users lock alice</c>, <c>-- keys rotate</c>.
/// <see cref="CommandLine"/> finds the command (the arguments start with its word); <c>help</c> lists them
/// from <see cref="CommandCatalog"/>, where each command also has its line.
/// </summary>
public static class AdminCommands
{
    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        switch (args)
        {
            case ["revoke", "--user", var user]:
                await services.GetRequiredService<DatabaseInitializer>().MigrateAsync(app.Lifetime.ApplicationStopping);
                return await RevokeUserAsync(services, user);

            case ["users", "lock", var user]:
                await services.GetRequiredService<DatabaseInitializer>().MigrateAsync(app.Lifetime.ApplicationStopping);
                return await UserCommands.LockAsync(services, user);

            case ["users", "unlock", var user]:
                await services.GetRequiredService<DatabaseInitializer>().MigrateAsync(app.Lifetime.ApplicationStopping);
                return await UserCommands.UnlockAsync(services, user);

            case ["audit", ..]:
                await services.GetRequiredService<DatabaseInitializer>().MigrateAsync(app.Lifetime.ApplicationStopping);
                return await AuditCommands.RunAsync(services, args[1..]);

            case ["sessions", ..]:
                await services.GetRequiredService<DatabaseInitializer>().MigrateAsync(app.Lifetime.ApplicationStopping);
                return await SessionCommands.RunAsync(services, args[1..]);

            case ["keys", "rotate"]:
                var rotated = services.GetRequiredService<KeyRing>().Rotate();
                await services.GetRequiredService<Audit.SecurityEvents>().SigningKeyRotatedAsync(rotated);
                Console.WriteLine($"Created signing key {rotated} in {services.GetRequiredService<KeyRing>().Directory}.");
                Console.WriteLine("Running instances sharing this folder switch to it within IdentityHost:Keys:ReloadInterval (1 minute by default); the previous keys stay published and usable for decryption.");
                return 0;

            case ["keys", "list"]:
                foreach (var line in services.GetRequiredService<KeyRing>().Describe())
                {
                    Console.WriteLine(line);
                }

                return 0;

            default:
                return await CommandLine.WrongArgumentsAsync(args);
        }
    }

    private static async Task<int> RevokeUserAsync(IServiceProvider services, string nameOrId)
    {
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.FindByNameAsync(nameOrId) ?? await users.FindByIdAsync(nameOrId);
        if (user is null)
        {
            await Console.Error.WriteLineAsync($"No user named or with id '{nameOrId}'.");
            return 2;
        }

        var (authorizations, tokens) = await services.GetRequiredService<TokenFamilies>().RevokeAllAsync(user);
        Console.WriteLine($"Signed {user.UserName} ({user.Id}) out everywhere: {authorizations} token famil(ies) and {tokens} token(s) revoked.");
        return 0;
    }
}
