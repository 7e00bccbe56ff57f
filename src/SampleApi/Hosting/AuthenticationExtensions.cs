using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using SampleApi.Configuration;

namespace SampleApi.Hosting;

public static class AuthenticationExtensions
{
    /// <summary>The scope that lets a client read (<c>GET /api/me</c>).</summary>
    public const string ApiScope = "api";

    /// <summary>The scope that lets a client write (<c>POST /api/echo</c>).</summary>
    public const string ApiWriteScope = "api.write";

    /// <summary>
    /// Bearer authentication in the mode <c>SampleApi:Validation</c> names, plus one authorization policy per scope, named
    /// after it, that both modes share (see <see cref="RequireScope"/>).
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

        // Authorization: DPoP beside Bearer, in both modes (RFC 9449 §7).
        builder.Services.AddSingleton<DpopResourceCheck>();

        var authorization = builder.Services.AddAuthorizationBuilder();
        foreach (var scope in (string[])[ApiScope, ApiWriteScope])
        {
            authorization.AddPolicy(scope, policy => policy.RequireAuthenticatedUser().RequireAssertion(context =>
                context.User.FindAll("scope").SelectMany(claim => claim.Value.Split(' ')).Contains(scope, StringComparer.Ordinal)));
        }

        return builder;
    }

    /// <summary>
    /// The endpoint needs a valid token for this API carrying <paramref name="scope"/>; without it the answer is 403
    /// <c>insufficient_scope</c> naming that scope (<see cref="BearerChallenges.WriteInsufficientScope"/>).
    /// </summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder endpoint, string scope) where TBuilder : IEndpointConventionBuilder =>
        endpoint.RequireAuthorization(scope).WithMetadata(new RequiredScope(scope));

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

                // RFC 9068 §4: aud must contain this API, so a token without aud, even from the trusted issuer, is 401.
                ValidateAudience = true,
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

                // DPoP (RFC 9449 §7): the token may come with either scheme; once valid, its binding decides which fits.
                OnMessageReceived = context =>
                {
                    context.Token = DpopResourceCheck.ReadToken(context.HttpContext);
                    return Task.CompletedTask;
                },
                OnTokenValidated = async context =>
                {
                    var dpop = context.HttpContext.RequestServices.GetRequiredService<DpopResourceCheck>();
                    var jkt = DpopResourceCheck.JktOf(context.Principal?.FindFirst("cnf")?.Value);
                    if (dpop.Check(context.HttpContext, DpopResourceCheck.ReadToken(context.HttpContext)!, jkt) is { } failure)
                    {
                        context.Fail(failure.Description);
                    }
                },
                OnChallenge = context =>
                {
                    if (BearerChallenges.DpopAware(context.HttpContext, context.ErrorDescription) is { } challenge)
                    {
                        context.HandleResponse();
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        context.Response.Headers.WWWAuthenticate = challenge;
                    }

                    return Task.CompletedTask;
                },
            };
        }
    }
}
