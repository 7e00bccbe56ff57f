using IdentityHost.Configuration;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;

namespace IdentityHost.Seeding;

/// <summary>Creates the Development demo users declared in configuration when they are missing; never touches existing ones.</summary>
public sealed class DemoUserSeeder(UserManager<ApplicationUser> users, ILogger<DemoUserSeeder> logger)
{
    public async Task SeedAsync(IEnumerable<DemoUserOptions> demoUsers)
    {
        foreach (var demo in demoUsers)
        {
            if (await users.FindByNameAsync(demo.UserName) is not null)
            {
                continue;
            }

            var user = new ApplicationUser { UserName = demo.UserName, Email = demo.Email, EmailConfirmed = demo.Email is not null };
            var result = await users.CreateAsync(user, demo.Password);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException(
                    $"Cannot create demo user '{demo.UserName}': {string.Join("; ", result.Errors.Select(error => error.Description))}");
            }

            logger.LogInformation("Created demo user {UserName}", demo.UserName);
        }
    }
}
