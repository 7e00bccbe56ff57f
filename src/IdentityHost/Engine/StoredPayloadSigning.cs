using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers.Protection;

namespace IdentityHost.Engine;

/// <summary>
/// JWTs only IdentityHost itself ever reads (authorization codes; refresh-token payloads before they moved to the Data
/// Protection format, which needs no signing key and is skipped here) are signed with HMAC-SHA256 instead of the
/// server's RS256/ES256 key: an RSA signature costs ~0.25 ms of CPU, an HMAC a microsecond, and nobody else needs to
/// verify these. They are still encrypted, and still signed with a key only the server holds: one HMAC key per
/// encryption key, derived from it with HKDF (so nothing new to store, back up or rotate: it lives and dies with its
/// encryption key), and each payload is signed with the key derived from the encryption key that encrypts it. Access
/// and identity tokens, which clients and APIs verify, keep the asymmetric key. Symmetric keys never appear in the
/// JWKS document or in discovery (OpenIddict publishes only RS*/PS*/ES* keys), which a test checks. Runs right after
/// OpenIddict's Data Protection integration has chosen each token's format (<see cref="EngineHandlers"/>): a token it
/// writes is not a JWT and needs no signing key (refresh tokens).
/// </summary>
public sealed class StoredPayloadSigning : IOpenIddictServerHandler<GenerateTokenContext>
{
    private static readonly byte[] Info = Encoding.UTF8.GetBytes("IdentityHost stored token payload signing v1");

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

    /// <summary>HMAC key id by encryption key id (deriving costs an HKDF and a SHA-256; the pairs never change).</summary>
    private readonly ConcurrentDictionary<string, string> derivedKeyIds = new(StringComparer.Ordinal);

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        if (context.TokenFormat is TokenFormats.Private.DataProtection)
        {
            return ValueTask.CompletedTask;
        }

        var credentials = context.Options.SigningCredentials;
        if (IsPrivate(context.TokenType) && context.EncryptionCredentials?.Key is SymmetricSecurityKey { KeyId: { } encryptionKeyId } encryptionKey)
        {
            // Signed with the HMAC key derived from the very key that encrypts it: the two live and die together, so
            // retiring an old encryption key (keys rotate) affects exactly the tokens it encrypted, as before.
            var id = derivedKeyIds.GetOrAdd(encryptionKeyId, static (_, key) => Derive(key).Key.KeyId, encryptionKey);
            context.SigningCredentials = credentials.FirstOrDefault(candidate => candidate.Key.KeyId == id) ?? context.SigningCredentials;
        }
        else if (context.SigningCredentials?.Key is SymmetricSecurityKey)
        {
            // OpenIddict sorts symmetric keys first and signs everything but identity tokens with the first key: every
            // token for others to verify (access tokens above all) takes the first asymmetric key, as without HMAC keys.
            context.SigningCredentials = credentials.First(candidate => candidate.Key is AsymmetricSecurityKey);
        }

        return ValueTask.CompletedTask;
    }
}
