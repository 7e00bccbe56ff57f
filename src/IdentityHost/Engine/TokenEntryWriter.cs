using System.Security.Cryptography;
using IdentityHost.RefreshTokens;
using IdentityHost.Storage.Stores;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers.Protection;

namespace IdentityHost.Engine;

/// <summary>
/// In place of OpenIddict's <c>Protection.CreateTokenEntry</c> and <c>Protection.AttachTokenPayload</c> (same orders,
/// same filters). OpenIddict writes as it goes: per new token an INSERT (to learn the row's id, which goes into the
/// token) and an UPDATE with the payload and reference id. Here the rows of the tokens a sign-in issues (access,
/// refresh and identity tokens, authorization codes) are built in memory with their ids chosen up front and handed to
/// the request's <see cref="Rotation"/>, which writes them with the redemption in one transaction. The rows are the ones
/// OpenIddict's stores would have written (reference ids hashed by the token manager). Other token types (device and
/// user codes, request tokens) go through OpenIddict's own handlers unchanged.
/// </summary>
public static class TokenEntryWriter
{
    private static bool IsRotated(string? type) => type is TokenTypeIdentifiers.AccessToken or TokenTypeIdentifiers.RefreshToken
        or TokenTypeIdentifiers.IdentityToken or TokenTypeIdentifiers.Private.AuthorizationCode;

    /// <summary>At <c>CreateTokenEntry</c>'s place: the row, with its id, before the token is serialized.</summary>
    public sealed class Reserve(
        IOpenIddictApplicationManager applications,
        IOpenIddictTokenManager tokens,
        IOpenIddictTokenStore<Token> store,
        Rotation rotation) : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public async ValueTask HandleAsync(GenerateTokenContext context)
        {
            if (!IsRotated(context.TokenType))
            {
                await new CreateTokenEntry(applications, tokens).HandleAsync(context);
                return;
            }

            // A JWT access token gets no row: its family, client and any RFC 7009 revocation are checked without one
            // (AccessTokenRevocations). A reference access token is its row, so it keeps one.
            if (context.TokenType is TokenTypeIdentifiers.AccessToken && !context.IsReferenceToken)
            {
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
            token.Id = TokenTableSql.NewId();
            context.Principal.SetTokenId(token.Id);
            rotation.Add(token);
        }
    }

    /// <summary>At <c>AttachTokenPayload</c>'s place: the serialized payload and, for reference tokens, the handle.</summary>
    public sealed class Store(IOpenIddictTokenManager tokens, Rotation rotation) : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public async ValueTask HandleAsync(GenerateTokenContext context)
        {
            if (rotation.Find(context.Principal.GetTokenId()) is not { } token)
            {
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
}
