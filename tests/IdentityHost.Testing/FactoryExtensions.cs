using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace IdentityHost.Testing;

public static class FactoryExtensions
{
    /// <summary>A protocol client over the in-memory server.</summary>
    public static TokenClient CreateTokenClient(this IdentityHostFactory factory) => new(factory.CreateClient());

    /// <summary>Creates a fresh user (password <see cref="TokenClient.Password"/>) so destructive tests share no state.</summary>
    public static async Task<string> CreateUserAsync(this IdentityHostFactory factory, string? userName = null)
    {
        userName ??= "user-" + Guid.NewGuid().ToString("N")[..12];
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var result = await users.CreateAsync(new ApplicationUser { UserName = userName, Email = userName + "@example.com" }, TokenClient.Password);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(error => error.Description)));
        return userName;
    }

    /// <summary>Runs <paramref name="action"/> against the user store, e.g. to lock out or delete a user.</summary>
    public static async Task WithUserAsync(this IdentityHostFactory factory, string userName, Func<UserManager<ApplicationUser>, ApplicationUser, Task<IdentityResult>> action)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.FindByNameAsync(userName) ?? throw new InvalidOperationException($"No user {userName}");
        var result = await action(users, user);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(error => error.Description)));
    }
}
