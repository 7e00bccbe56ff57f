using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using OpenIddict.Server.DataProtection;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace IdentityHost.Engine;

/// <summary>
/// Every change IdentityHost makes to OpenIddict's server pipeline, in one list. A handler either <b>replaces</b> one of
/// OpenIddict's (and takes its order and its filters from the running engine, so it runs exactly where and when the
/// original would) or <b>runs after</b> a named OpenIddict handler (ordered just after it; the engine must have none of
/// its own handlers between the two). The upgrade guards (tests/IdentityHost.Tests/EngineGuards) check these assumptions, and
/// the code of every replaced handler, against the running engine. See ARCHITECTURE.md, "Engine replacements".
/// </summary>
public static class EngineHandlers
{
    /// <summary>One change: <see cref="Ours"/> replaces <see cref="Replaces"/> or runs right after <see cref="RunsAfter"/>.</summary>
    public sealed record Change(OpenIddictServerHandlerDescriptor Ours, OpenIddictServerHandlerDescriptor? Replaces, OpenIddictServerHandlerDescriptor? RunsAfter, string Why)
    {
        public string Name => Ours.ServiceDescriptor.ServiceType.Name;
    }

    public static IReadOnlyList<Change> Changes { get; } =
    [
        Replace<ValidateTokenContext, TokenStatusCheck>(Protection.ValidateTokenEntry.Descriptor,
            "replay rules: a spent refresh token is a replay that ends its family; introspection never revokes"),
        Replace<ValidateTokenRequestContext, GrantedScopeCheck>(Exchange.ValidateGrantedScopes.Descriptor,
            "RFC 6749 §5.2: a refresh asking for more than it was granted is invalid_scope, not invalid_grant"),
        Replace<ProcessSignInContext, TokenRedemption>(RedeemTokenEntry.Descriptor,
            "exactly one winner: the redemption is written, concurrency-checked, in the rotation's transaction"),
        Replace<GenerateTokenContext, TokenEntryWriter.Reserve>(Protection.CreateTokenEntry.Descriptor,
            "the new rows are written in the rotation's transaction, one INSERT each"),
        Replace<GenerateTokenContext, TokenEntryWriter.Store>(Protection.AttachTokenPayload.Descriptor,
            "the payload and reference id go into the row before its single INSERT"),
        After<ProcessSignInContext, RotationCommit>(GenerateIdentityToken.Descriptor,
            "commits the rotation once every token of the response is built and signed"),
        After<ProcessAuthenticationContext, TokenRequestLimits.ChargeAuthenticatedClient>(ValidateClientCertificate.Descriptor,
            "rate limits per client are charged only once the client has authenticated, per sign-in once the user name is known"),
        After<ApplyTokenResponseContext, TokenRequestLimits.AttachTooManyRequests>(OpenIddictServerAspNetCoreHandlers.AttachHttpResponseCode<ApplyTokenResponseContext>.Descriptor,
            "a refused budget is a 429 with Retry-After, not a 400", singleton: true),
        After<ApplyTokenResponseContext, RetriableErrorStatus>(OpenIddictServerAspNetCoreHandlers.AttachHttpResponseCode<ApplyTokenResponseContext>.Descriptor,
            "temporarily_unavailable (a rotation the database could not write) is a 503 with Retry-After, not a 400", singleton: true),
        After<HandleRevocationRequestContext, FamilyRevocationOnRevoke>(Revocation.RevokeToken.Descriptor,
            "RFC 7009 §2.1: revoking a refresh token ends its family",
            filters: builder => builder.AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()),
        After<ValidateTokenContext, AccessTokenChecks.Validate>(Protection.ValidateAuthorizationEntry.Descriptor,
            "JWT access tokens have no row: a revoked one (RFC 7009) or one whose client was removed is refused without it",
            filters: builder => builder.AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()),
        After<HandleRevocationRequestContext, AccessTokenChecks.PrepareRevocation>(Revocation.AttachPrincipal.Descriptor,
            "RFC 7009 for an access token without a row: one is written, keyed by its jti, for OpenIddict's RevokeToken to revoke",
            filters: builder => builder.AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()),
        After<HandleIntrospectionRequestContext, IntrospectionClaims>(Introspection.AttachApplicationClaims.Descriptor,
            "RFC 7662 §2.2: the token's own client learns its scope too, not only its audience",
            filters: builder => builder.AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()),
        After<GenerateTokenContext, StoredPayloadSigning>(OpenIddictServerDataProtectionHandlers.Protection.OverrideGeneratedTokenFormat.Descriptor,
            "authorization codes are signed with an HMAC key only the server holds; access tokens keep the asymmetric key", singleton: true),

        // DPoP (RFC 9449): rules in Dpop/DpopTokenRequests.
        After<ValidateTokenRequestContext, DpopHandlers.CheckProof>(Exchange.ValidateResources.Descriptor,
            "RFC 9449 §4.3: the DPoP proof is checked before the client and the grant, so a refresh can see its key"),
        After<ValidateTokenContext, DpopHandlers.CheckRefreshBinding>(Protection.ValidateProofOfPossession.Descriptor,
            "RFC 9449 §5: a bound refresh token without its key is refused before the status check can spend or revoke anything"),
        After<ProcessSignInContext, DpopHandlers.BindTokens>(PrepareRefreshTokenPrincipal.Descriptor,
            "RFC 9449 §6: cnf.jkt in the access token; a public client's refresh token bound to the key"),
        After<ProcessSignInContext, DpopHandlers.AnswerTokenType>(AttachSignInParameters.Descriptor,
            "RFC 9449 §5: token_type DPoP for a bound access token", singleton: true),
        After<HandleIntrospectionRequestContext, DpopHandlers.IntrospectionTokenType>(Introspection.AttachMetadataClaims.Descriptor,
            "RFC 9449 §6.2: token_type DPoP for a bound access token (OpenIddict answers its cnf)", singleton: true),
        After<HandleConfigurationRequestContext, DpopHandlers.AdvertiseAlgorithms>(Discovery.AttachAdditionalMetadata.Descriptor,
            "RFC 9449 §5.1: dpop_signing_alg_values_supported", singleton: true),
    ];

    /// <summary>Applies <see cref="Changes"/> to OpenIddict's server options.</summary>
    public static OpenIddictServerBuilder AddIdentityHostHandlers(this OpenIddictServerBuilder options)
    {
        foreach (var change in Changes)
        {
            if (change.Replaces is { } replaced)
            {
                options.RemoveEventHandler(replaced);
            }

            options.AddEventHandler(change.Ours);
        }

        return options;
    }

    private static Change Replace<TContext, THandler>(OpenIddictServerHandlerDescriptor engine, string why)
        where TContext : BaseContext where THandler : class, IOpenIddictServerHandler<TContext>
    {
        // Import takes the engine's order and filters as they are in the running version.
        var ours = OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .Import(engine)
            .UseScopedHandler<THandler>()
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();
        return new Change(ours, engine, null, why);
    }

    private static Change After<TContext, THandler>(OpenIddictServerHandlerDescriptor anchor, string why, bool singleton = false,
        Func<OpenIddictServerHandlerDescriptor.Builder<TContext>, OpenIddictServerHandlerDescriptor.Builder<TContext>>? filters = null)
        where TContext : BaseContext where THandler : class, IOpenIddictServerHandler<TContext>
    {
        var builder = OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .SetOrder(anchor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom);
        builder = singleton ? builder.UseSingletonHandler<THandler>() : builder.UseScopedHandler<THandler>();
        return new Change((filters?.Invoke(builder) ?? builder).Build(), null, anchor, why);
    }
}
