using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using SampleApi.Configuration;

namespace SampleApi.Hosting;

public static class AuthenticationExtensions
{
    /// <summary>The scope every protected endpoint requires.</summary>
    public const string ApiScope = "api";
    public const string ApiPolicy = "api";

    /// <summary>
    /// Bearer authentication in the mode <c>SampleApi:Validation</c> names, plus the <c>api</c> scope policy both share.
    /// <c>Jwt</c>: JwtBearer validating issuer, audience, lifetime, signature, algorithm and <c>typ: at+jwt</c> (RFC 9068),
    /// with the issuer's keys from its discovery document. <c>Introspection</c>: <see cref="IntrospectionAuthenticationHandler"/>.
    /// </summary>
    public static WebApplicationBuilder AddApiAuthentication(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SampleApiOptions>()
            .Bind(builder.Configuration.GetSection(SampleApiOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SampleApiOptions>, SampleApiOptionsValidator>();
        builder.Services.AddSingleton<IConfigureOptions<JwtBearerOptions>, ConfigureJwtBearer>();
        builder.Services.TryAddSingleton(TimeProvider.System);

        // Both schemes are registered; the validated settings pick the default, so only that one ever runs.
        builder.Services.AddSingleton<IConfigureOptions<AuthenticationOptions>, SelectValidationScheme>();
        builder.Services.AddAuthentication()
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, IntrospectionAuthenticationHandler>(IntrospectionAuthenticationHandler.SchemeName, configureOptions: null);
        builder.Services.AddHttpClient(IntrospectionClient.HttpClientName, http =>
        {
            // A slow or oversized answer fails the request (401) instead of holding it.
            http.Timeout = TimeSpan.FromSeconds(10);
            http.MaxResponseContentBufferSize = 1024 * 1024;
        });
        builder.Services.AddSingleton<IntrospectionClient>().AddSingleton<IntrospectionCache>();

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicy, policy => policy.RequireAuthenticatedUser().RequireAssertion(context =>
                context.User.FindAll("scope").SelectMany(claim => claim.Value.Split(' ')).Contains(ApiScope)));
        return builder;
    }

    private sealed class SelectValidationScheme(IOptions<SampleApiOptions> settings) : IConfigureOptions<AuthenticationOptions>
    {
        public void Configure(AuthenticationOptions options) => options.DefaultScheme =
            settings.Value.Validation == ValidationModes.Introspection
                ? IntrospectionAuthenticationHandler.SchemeName
                : JwtBearerDefaults.AuthenticationScheme;
    }

    private sealed class ConfigureJwtBearer(IOptions<SampleApiOptions> settings, IHostEnvironment environment) : IConfigureNamedOptions<JwtBearerOptions>
    {
        public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

        public void Configure(string? name, JwtBearerOptions options)
        {
            var api = settings.Value;
            options.Authority = api.Authority.AbsoluteUri;
            options.Audience = api.Audience;
            options.RequireHttpsMetadata = !environment.IsDevelopment();
            options.MapInboundClaims = false;
            options.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = api.Authority.AbsoluteUri,
                ValidAudience = api.Audience,

                // A token from this issuer with no audience was granted no API scope: authenticate it so the scope
                // policy answers 403 insufficient_scope (the contract); a token for another audience stays 401.
                AudienceValidator = (audiences, _, _) => !audiences.Any() || audiences.Contains(api.Audience, StringComparer.Ordinal),
                ValidTypes = ["at+jwt"],
                ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256],
                ClockSkew = api.ClockSkew,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                NameClaimType = "sub",
            };
            options.Events = new JwtBearerEvents
            {
                // Same 403 as Introspection mode.
                OnForbidden = context =>
                {
                    BearerChallenges.WriteInsufficientScope(context.Response);
                    return Task.CompletedTask;
                },
            };
        }
    }
}
