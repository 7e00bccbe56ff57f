using System.Net;

namespace IdentityHost.Tests.Dpop;

/// <summary>
/// RFC 9449 §5: a public client's refresh token issued on a DPoP request is bound to the key; refreshing without it is
/// refused before anything is spent or revoked. A confidential client's refresh tokens stay bound to its authentication.
/// </summary>
public sealed class DpopRefreshBindingTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    private async Task<(DpopKey Key, ProtocolResponse Tokens)> SignInPublicAsync()
    {
        var key = new DpopKey { Now = factory.Time.GetUtcNow() };
        var tokens = await client.DpopPasswordAsync(await factory.CreateUserAsync(), key.Proof());
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return (key, tokens);
    }

    [Fact]
    public async Task PublicRefresh_WithTheSameKey_IssuesBoundTokens()
    {
        var (key, tokens) = await SignInPublicAsync();

        var refreshed = await client.DpopRefreshAsync(tokens.RefreshToken, "web", null, key.Proof());

        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal("DPoP", refreshed["token_type"]);
        Assert.Equal(key.Thumbprint, DpopRequests.BoundKey(refreshed.AccessToken));
        Assert.Equal(HttpStatusCode.OK, (await client.DpopRefreshAsync(refreshed.RefreshToken, "web", null, key.Proof())).Status);
    }

    [Fact]
    public async Task PublicRefresh_WithoutProof_IsRefused_AndSpendsNothing()
    {
        var (key, tokens) = await SignInPublicAsync();

        var stolen = await client.RefreshAsync(tokens.RefreshToken, "web", null);

        Assert.Equal(HttpStatusCode.BadRequest, stolen.Status);
        Assert.Equal("invalid_grant", stolen.Error);
        Assert.Contains("bound to a DPoP key", stolen["error_description"]);
        Assert.Equal(HttpStatusCode.OK, (await client.DpopRefreshAsync(tokens.RefreshToken, "web", null, key.Proof())).Status);
    }

    [Fact]
    public async Task PublicRefresh_WithAnotherKey_IsRefused_AndSpendsNothing()
    {
        var (key, tokens) = await SignInPublicAsync();
        using var thief = new DpopKey { Now = factory.Time.GetUtcNow() };

        var stolen = await client.DpopRefreshAsync(tokens.RefreshToken, "web", null, thief.Proof());

        Assert.Equal(HttpStatusCode.BadRequest, stolen.Status);
        Assert.Equal("invalid_grant", stolen.Error);
        Assert.Contains("another DPoP key", stolen["error_description"]);
        Assert.Equal(HttpStatusCode.OK, (await client.DpopRefreshAsync(tokens.RefreshToken, "web", null, key.Proof())).Status);
    }

    [Fact]
    public async Task PublicRefresh_WithMalformedProof_IsInvalidDpopProof_AndSpendsNothing()
    {
        var (key, tokens) = await SignInPublicAsync();

        var response = await client.DpopRefreshAsync(tokens.RefreshToken, "web", null, key.Proof(htm: "GET"));

        DpopTokenEndpointTests.AssertInvalidProof(response, "htm");
        Assert.Equal(HttpStatusCode.OK, (await client.DpopRefreshAsync(tokens.RefreshToken, "web", null, key.Proof())).Status);
    }

    [Fact]
    public async Task ConfidentialRefresh_StaysBoundToClientAuthentication_AndBindsTheAccessTokenWhenAProofIsSent()
    {
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = await factory.CreateUserAsync(), ["password"] = TokenClient.Password,
            ["scope"] = "offline_access api",
        };
        var tokens = await client.TokenAsync(form, "postman", "postman-secret", key.Proof());
        Assert.Equal("DPoP", tokens["token_type"]);

        var withoutProof = await client.RefreshAsync(tokens.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, withoutProof.Status);
        Assert.Equal("Bearer", withoutProof["token_type"]);

        using var otherKey = new DpopKey { Now = factory.Time.GetUtcNow() };
        var withProof = await client.DpopRefreshAsync(withoutProof.RefreshToken, "postman", "postman-secret", otherKey.Proof());
        Assert.Equal(HttpStatusCode.OK, withProof.Status);
        Assert.Equal("DPoP", withProof["token_type"]);
        Assert.Equal(otherKey.Thumbprint, DpopRequests.BoundKey(withProof.AccessToken));
    }

    [Fact]
    public async Task AuthorizationCode_WithProof_BindsTokens_AndTheRefreshNeedsTheKey()
    {
        var browser = new BrowserSession(factory);
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };
        var redirect = await browser.AuthorizeAsync();
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = BrowserSession.QueryValue(redirect, "code")!,
            ["redirect_uri"] = BrowserSession.SpaRedirectUri, ["code_verifier"] = browser.CodeVerifier,
        };

        var tokens = await new TokenClient(browser.Http).TokenAsync(form, "spa", null, key.Proof());

        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        Assert.Equal("DPoP", tokens["token_type"]);
        Assert.Equal(key.Thumbprint, DpopRequests.BoundKey(tokens.AccessToken));
        Assert.Equal("invalid_grant", (await client.RefreshAsync(tokens.RefreshToken, "spa", null)).Error);
        Assert.Equal(HttpStatusCode.OK, (await client.DpopRefreshAsync(tokens.RefreshToken, "spa", null, key.Proof())).Status);
    }
}
