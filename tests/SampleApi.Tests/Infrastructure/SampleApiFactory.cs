extern alias api;

using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace SampleApi.Tests.Infrastructure;

/// <summary>
/// SampleApi in memory, trusting an in-memory IdentityHost: JwtBearer's back-channel (discovery, JWKS) goes through
/// the real token server.
/// </summary>
public sealed class SampleApiFactory(IdentityHostFactory identityHost) : WebApplicationFactory<api::Program>
{
    public Dictionary<string, string?> Settings { get; init; } = new(StringComparer.Ordinal);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseContentRoot(RepositoryLayout.ProjectFolder("src/SampleApi"));
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services => services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme,
            options => options.BackchannelHttpHandler = identityHost.Server.CreateHandler()));
    }
}
