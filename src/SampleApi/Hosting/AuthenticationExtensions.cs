using Microsoft.AspNetCore.Authentication.JwtBearer;
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
    /// JwtBearer validating issuer, audience, lifetime, signature, algorithm and <c>typ: at+jwt</c> (RFC 9068), with the
    /// issuer's keys from its discovery document; plus the <c>api</c> scope policy.
    /// </summary>
    public static WebApplicationBuilder AddApiAuthentication(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SampleApiOptions>()
            .Bind(builder.Configuration.GetSection(SampleApiOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SampleApiOptions>, SampleApiOptionsValidator>();
        builder.Services.AddSingleton<IConfigureOptions<JwtBearerOptions>, ConfigureJwtBearer>();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicy, policy => policy.RequireAuthenticatedUser().RequireAssertion(context =>
                context.User.FindAll("scope").SelectMany(claim => claim.Value.Split(' ')).Contains(ApiScope)));
        return builder;
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
