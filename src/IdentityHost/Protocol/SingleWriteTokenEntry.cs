using Microsoft.IdentityModel.Tokens;
using System.Security.Cryptography;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers.Protection;

namespace IdentityHost.Protocol;

/// <summary>
/// Stores a token whose payload is persisted (refresh tokens, authorization codes) with one INSERT. OpenIddict 7.8
/// inserts the row first (to learn its id, which goes into the payload), then signs the payload and updates the row
/// with it and the reference id: two writes and a re-read per token. Here the id is chosen up front, the row is built
/// in memory by <see cref="Reserve"/> at the place of <see cref="CreateTokenEntry"/>, and written complete by
/// <see cref="Store"/> at the place of <see cref="AttachTokenPayload"/>. The stored row is the same as OpenIddict's
/// (reference id hashed by the token manager, payload, status, dates); a request that fails in between leaves no row.
/// Tokens without a persisted payload (access and identity tokens) keep OpenIddict's handlers.
/// </summary>
public static class SingleWriteTokenEntry
{
    private const string PendingProperty = "identityhost:pending_token_entry";

    public sealed class Reserve(
        IOpenIddictApplicationManager applications,
        IOpenIddictTokenManager tokens,
        OpenIddict.Abstractions.IOpenIddictTokenStore<Token> store) : IOpenIddictServerHandler<GenerateTokenContext>
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
            if (!context.PersistTokenPayload || context.TokenType == OpenIddictConstants.TokenTypeIdentifiers.Private.UserCode)
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
                Type = context.TokenType,
                Status = context.TokenType == OpenIddictConstants.TokenTypeIdentifiers.Private.DeviceCode
                    ? OpenIddictConstants.Statuses.Inactive
                    : OpenIddictConstants.Statuses.Valid,
                Subject = context.TokenType is OpenIddictConstants.TokenTypeIdentifiers.Private.DeviceCode or OpenIddictConstants.TokenTypeIdentifiers.Private.UserCode
                    ? null
                    : context.Principal.GetClaim(OpenIddictConstants.Claims.Subject),
            };

            if (!string.IsNullOrEmpty(context.ClientId))
            {
                var application = await applications.FindByClientIdAsync(context.ClientId) ??
                    throw new InvalidOperationException("The client application of the token cannot be found.");
                descriptor.ApplicationId = await applications.GetIdAsync(application);
            }

            var token = await store.InstantiateAsync(default);
            await tokens.PopulateAsync(token, descriptor);
            token.Id = Guid.NewGuid().ToString();
            context.Principal.SetTokenId(token.Id);
            context.Transaction.SetProperty(PendingProperty, token);
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
            var token = context.Transaction.GetProperty<Token>(PendingProperty);
            if (token is null || token.Id != context.Principal.GetTokenId())
            {
                // Not reserved by us (token storage configured differently): OpenIddict's two-step write.
                await new AttachTokenPayload(tokens).HandleAsync(context);
                return;
            }

            context.Transaction.Properties.Remove(PendingProperty);
            token.Payload = context.Token;
            string? reference = null;
            if (context.IsReferenceToken)
            {
                // As OpenIddict does: 256 random bits, base64url. The token manager stores only its SHA-256.
                reference = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
                token.ReferenceId = reference;
            }

            await tokens.CreateAsync(token);
            if (reference is not null)
            {
                context.Token = reference;
            }
        }
    }
}
