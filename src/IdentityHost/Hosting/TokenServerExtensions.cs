using IdentityHost.Configuration;
using IdentityHost.Endpoints;
using IdentityHost.Engine;
using IdentityHost.Http;
using IdentityHost.Keys;
using IdentityHost.RefreshTokens;
using IdentityHost.Storage;
using IdentityHost.Storage.Stores;
using IdentityHost.Tokens;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Hosting;

public static class TokenServerExtensions
{
    /// <summary>OpenIddict's protocol engine over the EF Core stores, with IdentityHost's refresh-token rules.</summary>
    public static WebApplicationBuilder AddTokenServer(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<IdentityHostOptions>()
            .Bind(builder.Configuration.GetSection(IdentityHostOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IdentityHostOptions>, IdentityHostOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IdentityHost.Telemetry.IdentityHostTelemetry>();

        services.AddSingleton<KeyRing>().AddHostedService<KeyRingWatcher>();
        services.AddSingleton<IConfigureOptions<OpenIddictServerOptions>, ConfigureServerFromSettings>();
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddictServerOptions>, KeyRingChangeTokenSource>();
        services.AddSingleton<SecretCheckCache>().AddSingleton<ApplicationCache>();
        services.AddSingleton<ClaimsFactory>().AddSingleton<TokenPolicy>().AddScoped<UserReader>().AddScoped<AccessTokenRevocations>();

        // The refresh-token rules (RefreshTokens/): one set per request.
        services.AddScoped<RefreshTokenRules>().AddScoped<Rotation>().AddScoped<TokenFamilies>()
            .AddScoped<ReuseLeeway>();
        services.AddScoped<PasswordGrant>().AddScoped<ExchangeGrant>().AddSingleton<ClientCredentialsGrant>();

        // DPoP (RFC 9449) rules (Dpop/), called by the handlers in Engine/DpopHandlers.
        services.AddScoped<Dpop.DpopTokenRequests>().AddScoped<Dpop.DpopReplayCache>().AddSingleton<Dpop.DpopNonces>();

        services.AddOpenIddict()
            .AddCore(options =>
            {
                options.UseEntityFrameworkCore().UseDbContext<ApplicationDbContext>();

                // The token endpoint's reads and writes of tokens and token families in plain SQL (see TokenStore).
                options.ReplaceTokenStore<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken, TokenStore>()
                    .ReplaceAuthorizationStore<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreAuthorization, AuthorizationStore>()
                    .ReplaceApplicationStore<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication, ApplicationStore>();

                // Successful client-secret checks are remembered for a few minutes (see CachingApplicationManager).
                options.ReplaceApplicationManager<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication, CachingApplicationManager>();

                // No per-request entity caches: they cost more to build than they saved (see NoEntityCaches).
                options.DisableEntityCaching();
                options.Services.AddNoEntityCaches();
            })
            .AddServer(options =>
            {
                // Duende-style paths, so clients written for IdentityServer find everything where they expect it.
                options.SetAuthorizationEndpointUris("connect/authorize")
                    .SetEndSessionEndpointUris("connect/endsession")
                    .SetTokenEndpointUris("connect/token")
                    .SetRevocationEndpointUris("connect/revocation")
                    .SetIntrospectionEndpointUris("connect/introspect")
                    .SetUserInfoEndpointUris("connect/userinfo")
                    .SetJsonWebKeySetEndpointUris(".well-known/jwks");

                // The password grant is only usable by clients whose configuration opts in (validated at start-up);
                // the code flow always requires PKCE, and only with S256 (see ConfigureServerFromSettings).
                options.AllowAuthorizationCodeFlow()
                    .RequireProofKeyForCodeExchange()
                    .AllowPasswordFlow()
                    .AllowClientCredentialsFlow()
                    .AllowRefreshTokenFlow();

                // Plain JWS access tokens any JwtBearer API can validate; refresh tokens are opaque handles stored hashed.
                options.DisableAccessTokenEncryption()
                    .UseReferenceRefreshTokens();

                options.RegisterScopes(IdentityHostOptionsValidator.StandardScopes);

                // Our endpoints build the principal; OpenIddict does the protocol.
                var aspNetCore = options.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough();
                if (builder.Environment.IsDevelopment())
                {
                    aspNetCore.DisableTransportSecurityRequirement();
                }

                // IdentityHost's refresh-token rules, plugged into OpenIddict's pipeline by thin handlers (Engine/EngineHandlers).
                options.AddIdentityHostHandlers();

                // The payload stored behind a refresh token, which only this server ever reads, is written in OpenIddict's
                // Data Protection format: the claims in a compact binary form, protected by ASP.NET Core Data Protection
                // (authenticated encryption; keys in the database, shared by every instance, see AddStorage). Writing and
                // reading it costs a fraction of a signed and encrypted JWT. Every other token keeps OpenIddict's default
                // format: access and identity tokens are JWTs others verify. Payloads stored as JWTs before still validate.
                options.UseDataProtection()
                    .PreferDefaultAccessTokenFormat()
                    .PreferDefaultAuthorizationCodeFormat()
                    .PreferDefaultDeviceCodeFormat()
                    .PreferDefaultRequestTokenFormat()
                    .PreferDefaultUserCodeFormat();
            });

        // OpenIddict's handlers, dispatched from per-event lists worked out once (Engine/PlannedServerDispatcher).
        services.AddSingleton(provider => new ServerDispatchPlan(provider.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>(), provider, services));
        services.Replace(ServiceDescriptor.Scoped<IOpenIddictServerDispatcher, PlannedServerDispatcher>());
        return builder;
    }

    /// <summary>
    /// The request pipeline in front of the endpoints. The rate limiter (per IP only) runs once the guard has read the
    /// protocol form and before the facade rewrites its requests; routing runs after the facade.
    /// </summary>
    public static WebApplication UseTokenServer(this WebApplication app)
    {
        app.UseCors(CorsExtensions.PolicyName);
        app.UseMiddleware<ProtocolRequestGuard>();
        app.UseRateLimiter();
        app.UseMiddleware<JsonTokenFacade>();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAntiforgery();
        return app;
    }

    public static WebApplication MapTokenServer(this WebApplication app)
    {
        app.MapAuthorizeEndpoint();
        app.MapTokenEndpoint();
        app.MapUserInfoEndpoint();
        app.MapRazorPages();
        return app;
    }

    /// <summary>When the key ring changes, OpenIddict's options are rebuilt with the new credentials.</summary>
    private sealed class KeyRingChangeTokenSource(KeyRing keys) : IOptionsChangeTokenSource<OpenIddictServerOptions>
    {
        public string Name => Options.DefaultName;

        public Microsoft.Extensions.Primitives.IChangeToken GetChangeToken() => keys.GetChangeToken();
    }

    /// <summary>Issuer, lifetimes, scopes and key material come from validated settings and the key ring.</summary>
    private sealed class ConfigureServerFromSettings(IOptions<IdentityHostOptions> settings, KeyRing keys) : IConfigureOptions<OpenIddictServerOptions>
    {
        public void Configure(OpenIddictServerOptions options)
        {
            var value = settings.Value;
            options.Issuer = value.Issuer;
            options.AccessTokenLifetime = value.AccessTokenLifetime;
            options.RefreshTokenLifetime = value.RefreshTokens.SlidingLifetime;
            options.RefreshTokenReuseLeeway = null; // see ReuseLeeway
            options.Scopes.UnionWith(value.Scopes.Keys);
            options.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain);

            foreach (var key in keys.SigningKeys)
            {
                options.SigningCredentials.Add(new SigningCredentials(key, KeyFiles.AlgorithmOf(key)));
            }

            foreach (var key in keys.EncryptionKeys)
            {
                options.EncryptionCredentials.Add(new EncryptingCredentials(key, SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512));
                options.SigningCredentials.Add(StoredPayloadSigning.Derive(key));
            }
        }
    }
}
