using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers.Protection;

namespace IdentityHost.Protocol;

/// <summary>
/// Tokens only IdentityHost itself ever reads (the payloads stored behind refresh tokens, authorization codes) are
/// signed with HMAC-SHA256 instead of the server's RS256/ES256 key: an RSA signature costs ~0.25 ms of CPU, an HMAC a
/// microsecond, and nobody else needs to verify these. They are still encrypted, and still signed with a key only the
/// server holds: one HMAC key per encryption key, derived from it with HKDF (so nothing new to store, back up or rotate:
/// it lives and dies with its encryption key). Access and identity tokens, which clients and APIs verify, keep the
/// asymmetric key. Symmetric keys never appear in the JWKS document or in discovery (OpenIddict publishes only
/// RS*/PS*/ES* keys), which a test checks.
/// </summary>
public sealed class StoredPayloadSigning : IOpenIddictServerHandler<GenerateTokenContext>
{
    private static readonly byte[] Info = Encoding.UTF8.GetBytes("IdentityHost stored token payload signing v1");

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<StoredPayloadSigning>()
            .SetOrder(AttachSecurityCredentials.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    /// <summary>The HMAC key derived from an encryption key; its key id is stable and reveals nothing about the key.</summary>
    public static SigningCredentials Derive(SymmetricSecurityKey encryptionKey)
    {
        var bytes = HKDF.DeriveKey(HashAlgorithmName.SHA256, encryptionKey.Key, 32, salt: [], info: Info);
        var id = "hs-" + Base64UrlEncoder.Encode(SHA256.HashData(bytes))[..16];
        return new SigningCredentials(new SymmetricSecurityKey(bytes) { KeyId = id }, SecurityAlgorithms.HmacSha256);
    }

    private static bool IsPrivate(string? type) => type is TokenTypeIdentifiers.RefreshToken
        or TokenTypeIdentifiers.Private.AuthorizationCode or TokenTypeIdentifiers.Private.DeviceCode
        or TokenTypeIdentifiers.Private.UserCode or TokenTypeIdentifiers.Private.RequestToken;

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        // OpenIddict sorts symmetric keys first and signs everything but identity tokens with the first key. Only the
        // server's own token types keep the HMAC key; every other token (access tokens above all) is for others to
        // verify and takes the first asymmetric key, as it would without the HMAC keys.
        if (context.SigningCredentials?.Key is SymmetricSecurityKey && !IsPrivate(context.TokenType))
        {
            context.SigningCredentials = context.Options.SigningCredentials.First(credentials => credentials.Key is AsymmetricSecurityKey);
        }

        return ValueTask.CompletedTask;
    }
}
