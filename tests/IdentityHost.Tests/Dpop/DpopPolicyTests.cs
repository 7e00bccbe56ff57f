using System.Net;

namespace IdentityHost.Tests.Dpop;

/// <summary>Per-client RequireDpop, and server nonces (RFC 9449 §8).</summary>
public sealed class DpopPolicyTests : IDisposable
{
    private readonly IdentityHostFactory factory = new()
    {
        Settings =
        {
            ["IdentityHost:Clients:web:RequireDpop"] = "true",
            ["IdentityHost:Dpop:RequireNonce"] = "true",
        },
    };

    [Fact]
    public async Task RequireDpop_RequestWithoutProof_IsInvalidDpopProof()
    {
        var response = await factory.CreateTokenClient().DpopPasswordAsync(await factory.CreateUserAsync());

        DpopTokenEndpointTests.AssertInvalidProof(response, "must send a DPoP proof");
    }

    [Fact]
    public async Task RequireDpop_OtherClientsStayBearer()
    {
        var response = await factory.CreateTokenClient().ClientCredentialsAsync();

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Bearer", response["token_type"]);
    }

    [Fact]
    public async Task RequireNonce_ProofWithoutNonce_GetsUseDpopNonceAndANonce_WhichThenWorks()
    {
        var client = factory.CreateTokenClient();
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };
        var user = await factory.CreateUserAsync();

        var first = await client.DpopPasswordAsync(user, key.Proof());

        Assert.Equal(HttpStatusCode.BadRequest, first.Status);
        Assert.Equal("use_dpop_nonce", first.Error);
        var nonce = Assert.Single(first.Headers.GetValues("DPoP-Nonce"));
        var second = await client.DpopPasswordAsync(user, key.Proof(nonce: nonce));
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal("DPoP", second["token_type"]);
    }

    [Fact]
    public async Task RequireNonce_ForgedOrExpiredNonce_IsRefused()
    {
        var client = factory.CreateTokenClient();
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };
        var user = await factory.CreateUserAsync();
        var nonce = Assert.Single((await client.DpopPasswordAsync(user, key.Proof())).Headers.GetValues("DPoP-Nonce"));

        Assert.Equal("use_dpop_nonce", (await client.DpopPasswordAsync(user, key.Proof(nonce: "forged-" + nonce))).Error);

        factory.Time.Advance(TimeSpan.FromMinutes(11));
        key.Now = factory.Time.GetUtcNow();
        Assert.Equal("use_dpop_nonce", (await client.DpopPasswordAsync(user, key.Proof(nonce: nonce))).Error);
    }

    public void Dispose() => factory.Dispose();
}
