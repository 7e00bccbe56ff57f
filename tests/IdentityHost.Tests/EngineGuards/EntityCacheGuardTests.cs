using System.Reflection;
using IdentityHost.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace IdentityHost.Tests.EngineGuards;

/// <summary>
/// Upgrade guard for Engine/NoEntityCaches: OpenIddict's managers are built with IdentityHost's empty entity caches and
/// with entity caching switched off. Should a new OpenIddict build its caches itself, drop the option, or stop taking
/// them from the services, this fails by name instead of the per-request caches silently coming back. That the rules
/// still hold without caches (rotation, replay revoking the family) is what the rest of the suite runs against.
/// </summary>
public sealed class EntityCacheGuardTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public void EntityCaching_IsSwitchedOff() =>
        Assert.True(factory.Services.GetRequiredService<IOptionsMonitor<OpenIddictCoreOptions>>().CurrentValue.DisableEntityCaching);

    [Theory]
    [InlineData(typeof(IOpenIddictApplicationManager), typeof(NoApplicationCache<>))]
    [InlineData(typeof(IOpenIddictAuthorizationManager), typeof(NoAuthorizationCache<>))]
    [InlineData(typeof(IOpenIddictScopeManager), typeof(NoScopeCache<>))]
    [InlineData(typeof(IOpenIddictTokenManager), typeof(NoTokenCache<>))]
    public void EachManager_HoldsTheEmptyCache(Type manager, Type expected)
    {
        using var scope = factory.Services.CreateScope();
        var instance = scope.ServiceProvider.GetRequiredService(manager);

        // OpenIddict's managers expose the cache they were built with as a protected property named Cache.
        var property = instance.GetType().GetProperty("Cache", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
        Assert.True(property is not null, $"{instance.GetType()} has no Cache property any more: check how OpenIddict builds its caches.");
        var cache = property.GetValue(instance);
        Assert.NotNull(cache);
        Assert.Equal(expected, cache.GetType().GetGenericTypeDefinition());
    }
}
