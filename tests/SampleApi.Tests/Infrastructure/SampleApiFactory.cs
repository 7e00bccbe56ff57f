extern alias api;

using System.Net.Http.Headers;
using api::SampleApi.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace SampleApi.Tests.Infrastructure;

/// <summary>
/// SampleApi in memory, trusting an in-memory IdentityHost: JwtBearer's back-channel (discovery, JWKS) and the
/// introspection client (discovery, introspection) go through the real token server.
/// </summary>
public sealed class SampleApiFactory(IdentityHostFactory identityHost) : WebApplicationFactory<api::Program>
{
    public Dictionary<string, string?> Settings { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The API's clock; null (the default) leaves the system clock.</summary>
    public FakeTimeProvider? Time { get; init; }

    /// <summary>What the introspection back channel talks to. Defaults to the in-memory IdentityHost.</summary>
    public Func<HttpMessageHandler>? IntrospectionBackchannel { get; init; }

    /// <summary>An API in Introspection mode with the given cache, clock and back channel.</summary>
    public static SampleApiFactory Introspecting(IdentityHostFactory identityHost, string cacheDuration = "00:00:05",
        FakeTimeProvider? time = null, Func<HttpMessageHandler>? backchannel = null) => new(identityHost)
    {
        Settings =
        {
            ["SampleApi:Validation"] = "Introspection",
            ["SampleApi:IntrospectionCacheDuration"] = cacheDuration,
        },
        Time = time,
        IntrospectionBackchannel = backchannel,
    };

    /// <summary>GETs <c>/api/me</c> with <paramref name="accessToken"/> as the Bearer token.</summary>
    public async Task<HttpResponseMessage> GetMeAsync(string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await CreateClient().SendAsync(request);
    }

    /// <summary>POSTs <paramref name="body"/> to <c>/api/echo</c> with <paramref name="accessToken"/> as the Bearer token.</summary>
    public async Task<HttpResponseMessage> PostEchoAsync(string? accessToken, string body, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/echo") { Content = new StringContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return await CreateClient().SendAsync(request);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseContentRoot(RepositoryLayout.ProjectFolder("src/SampleApi"));
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme,
                options => options.BackchannelHttpHandler = identityHost.Server.CreateHandler());
            services.AddHttpClient(IntrospectionClient.HttpClientName)
                .ConfigurePrimaryHttpMessageHandler(IntrospectionBackchannel ?? identityHost.Server.CreateHandler);
            if (Time is not null)
            {
                services.AddSingleton<TimeProvider>(Time);
            }
        });
    }
}
