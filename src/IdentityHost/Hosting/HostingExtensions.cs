using IdentityHost.Maintenance;
using IdentityHost.Seeding;
using Serilog;

namespace IdentityHost.Hosting;

public static class HostingExtensions
{
    /// <summary>Serilog from configuration, console by default.</summary>
    public static WebApplicationBuilder AddLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            .WriteTo.Console(),
            preserveStaticLogger: true);
        return builder;
    }

    /// <summary>Migrations, client/scope synchronisation and Development users at start-up; token cleanup afterwards.</summary>
    public static WebApplicationBuilder AddSeeding(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<ClientSynchronizer>().AddScoped<DemoUserSeeder>();
        builder.Services.AddSingleton<TokenCleanup>().AddHostedService(services => services.GetRequiredService<TokenCleanup>());
        return builder;
    }
}
