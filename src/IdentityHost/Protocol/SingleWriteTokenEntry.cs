using System.Security.Claims;
using System.Security.Cryptography;
using IdentityHost.Storage;
using IdentityHost.Storage.Lean;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers.Protection;

namespace IdentityHost.Protocol;

/// <summary>
/// Writes everything a sign-in stores (spending the presented refresh token or code, and the rows of the new tokens)
/// in <b>one transaction, after the tokens are built</b>. OpenIddict 7.8 writes as it goes: the redemption, then per
/// new token an INSERT (to learn the row's id, which goes into the token) and, for refresh tokens and codes, an UPDATE
/// with the payload and reference id: five autocommitted writes per refresh. Here:
/// <list type="bullet">
/// <item><see cref="Reserve"/> (at the place of <see cref="CreateTokenEntry"/>) chooses the row's id up front and builds
/// the row in memory;</item>
/// <item><see cref="Store"/> (at the place of <see cref="AttachTokenPayload"/>) adds the payload and the reference id;</item>
/// <item><see cref="StrictRefreshTokenRedemption"/> only records which token the sign-in spends;</item>
/// <item><see cref="Flush"/>, once every token of the response is built and signed, opens the transaction, spends the
/// presented token with its concurrency check (a loser of a race, or a replay, rolls back and is refused), inserts the
/// new rows and commits. The write lock is held for those few statements only, never while signing.</item>
/// </list>
/// The rows are the ones OpenIddict's stores would have written (reference ids hashed by the token manager). Rotation
/// is atomic: either the presented token is spent <i>and</i> its successors exist, or nothing changed and the client
/// can retry with the same token (a crash, a failed write). Token types a sign-in does not produce this way (device and
/// user codes, request tokens) keep OpenIddict's handlers.
/// </summary>
public static class SingleWriteTokenEntry
{
    private const string PendingProperty = "identityhost:pending_token_writes";

    /// <summary>What the current sign-in will write when it flushes.</summary>
    private sealed class PendingWrites
    {
        public readonly Dictionary<string, Token> Created = new(StringComparer.Ordinal);
        public Token? Spent;
        public ClaimsPrincipal? SpentPrincipal;
        public bool SpentIsRefreshToken;
    }

    private static bool IsDeferred(string? type) => type is TokenTypeIdentifiers.AccessToken or TokenTypeIdentifiers.RefreshToken
        or TokenTypeIdentifiers.IdentityToken or TokenTypeIdentifiers.Private.AuthorizationCode;

    private static PendingWrites Pending(OpenIddictServerTransaction transaction)
    {
        if (transaction.GetProperty<PendingWrites>(PendingProperty) is not { } pending)
        {
            pending = new PendingWrites();
            transaction.SetProperty(PendingProperty, pending);
        }

        return pending;
    }

    /// <summary>Called by <see cref="StrictRefreshTokenRedemption"/>: the token this sign-in spends, written at flush.</summary>
    public static void Spend(OpenIddictServerTransaction transaction, Token token, ClaimsPrincipal principal, bool isRefreshToken)
    {
        var pending = Pending(transaction);
        pending.Spent = token;
        pending.SpentPrincipal = principal;
        pending.SpentIsRefreshToken = isRefreshToken;
    }

    public sealed class Reserve(
        IOpenIddictApplicationManager applications,
        IOpenIddictTokenManager tokens,
        IOpenIddictTokenStore<Token> store) : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireTokenEntryCreated>()
                .UseScopedHandler<Reserve>()
                .SetOrder(CreateTokenEntry.Descriptor.Order)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(GenerateTokenContext context)
        {
            if (!IsDeferred(context.TokenType))
            {
                await new CreateTokenEntry(applications, tokens).HandleAsync(context);
                return;
            }

            var descriptor = new OpenIddictTokenDescriptor
            {
                AuthorizationId = context.Principal.GetAuthorizationId(),
                CreationDate = context.Principal.GetCreationDate(),
                ExpirationDate = context.Principal.GetExpirationDate(),
                Principal = context.Principal,
                Status = Statuses.Valid,
                Subject = context.Principal.GetClaim(Claims.Subject),
                Type = context.TokenType,
            };

            if (!string.IsNullOrEmpty(context.ClientId))
            {
                var application = await applications.FindByClientIdAsync(context.ClientId) ??
                    throw new InvalidOperationException("The client application of the token cannot be found.");
                descriptor.ApplicationId = await applications.GetIdAsync(application);
            }

            var token = await store.InstantiateAsync(default);
            await tokens.PopulateAsync(token, descriptor);
            token.Id = TokenRowSql.NewId();
            context.Principal.SetTokenId(token.Id);
            Pending(context.Transaction).Created.Add(token.Id, token);
        }
    }

    public sealed class Store(IOpenIddictTokenManager tokens) : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireDegradedModeDisabled>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireTokenPayloadPersisted>()
                .UseScopedHandler<Store>()
                .SetOrder(AttachTokenPayload.Descriptor.Order)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(GenerateTokenContext context)
        {
            var id = context.Principal.GetTokenId();
            if (id is null || context.Transaction.GetProperty<PendingWrites>(PendingProperty) is not { } pending ||
                !pending.Created.TryGetValue(id, out var token))
            {
                // Not reserved by us: OpenIddict's own write of the payload.
                await new AttachTokenPayload(tokens).HandleAsync(context);
                return;
            }

            token.Payload = context.Token;
            if (context.IsReferenceToken)
            {
                // As OpenIddict does: 256 random bits, base64url. The token manager stores only its SHA-256.
                var reference = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
                token.ReferenceId = reference;
                context.Token = reference;
            }
        }
    }

    public sealed class Flush(ApplicationDbContext db, IOpenIddictTokenManager tokens, FamilyRevoker families)
        : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseScopedHandler<Flush>()
                .SetOrder(OpenIddictServerHandlers.GenerateIdentityToken.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.Transaction.GetProperty<PendingWrites>(PendingProperty) is not { } pending)
            {
                return;
            }

            context.Transaction.Properties.Remove(PendingProperty);
            if (pending.Spent is null && pending.Created.Count == 0)
            {
                return;
            }

            // Opened only now, with every token built and signed: the write lock is held for a few statements.
            await using var transaction = await db.Database.BeginTransactionAsync();
            if (pending.Spent is { } spent && !await tokens.TryRedeemAsync(spent))
            {
                await transaction.RollbackAsync();
                var principal = pending.SpentPrincipal!;
                if (pending.SpentIsRefreshToken)
                {
                    await families.RevokeAsync(principal.GetAuthorizationId(), FamilyRevocationReason.Replay, context.ClientId, principal.GetClaim(Claims.Subject));
                    context.Reject(Errors.InvalidGrant, "The refresh token has already been used. Its token family has been revoked; sign in again.");
                }
                else
                {
                    context.Reject(Errors.InvalidGrant, "The authorization code or device code has already been redeemed.");
                }

                return;
            }

            foreach (var token in pending.Created.Values)
            {
                await tokens.CreateAsync(token);
            }

            await transaction.CommitAsync();
        }
    }
}
