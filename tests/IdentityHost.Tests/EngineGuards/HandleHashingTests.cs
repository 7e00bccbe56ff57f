using System.Net;
using System.Security.Cryptography;
using System.Text;
using IdentityHost.Engine;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace IdentityHost.Tests.EngineGuards;

/// <summary>
/// Upgrade guard for Engine/HandleHashing: OpenIddict still resolves its SHA-256 through CryptoConfig under the name
/// we register, so a refresh hashes its handles with our instance (should OpenIddict stop asking, the look-up cost
/// comes back silently: this fails instead), and the values are SHA-256's, so handles stored before and after the
/// registration are found alike. Both tests sit in one class: xunit runs them one after the other, and nothing but
/// OpenIddict and this class creates the provider.
/// </summary>
public sealed class HandleHashingTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public async Task Refresh_HashesItsHandlesWithTheRegisteredProvider()
    {
        var client = factory.CreateTokenClient();
        var issued = await client.PasswordAsync(scope: "offline_access api");
        Assert.Equal(HttpStatusCode.OK, issued.Status);

        var before = HandleHashing.Created;
        var refreshed = await client.RefreshAsync(issued.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);

        // One hash for the presented handle's look-up, one for the new handle's row.
        Assert.True(HandleHashing.Created - before >= 2,
            $"OpenIddict created {HandleHashing.Created - before} instances of {HandleHashing.OpenIddictName} during a refresh: " +
            "check how it hashes reference ids now (OpenIddictHelpers.ComputeSha256Hash).");

        // The stored value is the SHA-256 of the handle, as OpenIddict's default would have written it.
        await using var scope = factory.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        var row = await tokens.FindByReferenceIdAsync(refreshed.RefreshToken);
        Assert.NotNull(row);
        Assert.Equal(Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(refreshed.RefreshToken))),
            await tokens.GetReferenceIdAsync(row));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(43)]
    [InlineData(64)]
    [InlineData(1000)]
    public void Provider_IsSha256_ThroughEveryHashAlgorithmEntryPoint(int length)
    {
        _ = factory.Services; // the server registers the provider as it starts
        var data = RandomNumberGenerator.GetBytes(length);
        var expected = SHA256.HashData(data);

        using var resolved = (HashAlgorithm)CryptoConfig.CreateFromName(HandleHashing.OpenIddictName)!;
        Assert.IsType<HandleHashing>(resolved);
        Assert.Equal(expected, resolved.ComputeHash(data));
        Assert.Equal(expected, resolved.ComputeHash(data)); // the same instance again: nothing left over

        // In pieces, with a restart part-way: Initialize drops what was appended before it.
        resolved.TransformBlock([1, 2, 3], 0, 3, null, 0);
        resolved.Initialize();
        var half = length / 2;
        resolved.TransformBlock(data, 0, half, null, 0);
        resolved.TransformFinalBlock(data, half, length - half);
        Assert.Equal(expected, resolved.Hash);

        Span<byte> destination = stackalloc byte[32];
        Assert.True(resolved.TryComputeHash(data, destination, out var written));
        Assert.Equal(32, written);
        Assert.Equal(expected, destination.ToArray());
    }
}
