using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;

namespace IdentityHost.Engine;

/// <summary>
/// OpenIddict's token manager, hashing reference handles the way OpenIddict does (Base64 of the SHA-256 of the handle,
/// so rows written by either read the same) but without looking up a user-configured SHA-256 implementation in
/// <see cref="CryptoConfig"/> on every call, which OpenIddict does (about 1 % of a refresh's CPU: a handle is hashed
/// twice per refresh). IdentityHost configures no such implementation.
/// </summary>
public sealed class HashingTokenManager(
    IOpenIddictTokenCache<Token> cache,
    ILogger<OpenIddictTokenManager<Token>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictTokenStore<Token> store)
    : OpenIddictTokenManager<Token>(cache, logger, options, store)
{
    protected override ValueTask<string> ObfuscateReferenceIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return ValueTask.FromResult(Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(identifier))));
    }
}
