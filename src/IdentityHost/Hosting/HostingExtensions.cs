using IdentityHost.Maintenance;
using IdentityHost.Seeding;

namespace IdentityHost.Hosting;

public static class HostingExtensions
{
    /// <summary>Migrations, client/scope synchronisation and Development users at start-up; token cleanup afterwards.</summary>
    public static WebApplicationBuilder AddSeeding(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<ClientSynchronizer>().AddScoped<DemoUserSeeder>();
        builder.Services.AddSingleton<TokenCleanup>().AddHostedService(services => services.GetRequiredService<TokenCleanup>());
        return builder;
    }
}
