using System.Net;

namespace IdentityHost.Tests.Dpop;

/// <summary>RFC 9449 §6.2, RFC 7662 §2.2: introspection of a DPoP-bound token says so.</summary>
public sealed class DpopIntrospectionTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    private readonly TokenClient client = factory.CreateTokenClient();

    [Fact]
    public async Task BoundAccessToken_IntrospectsWithDpopTypeAndCnf()
    {
        using var key = new DpopKey { Now = factory.Time.GetUtcNow() };
        var tokens = await client.DpopPasswordAsync(await factory.CreateUserAsync(), key.Proof());

        var answer = await client.IntrospectAsync(tokens.AccessToken);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("true", answer["active"]);
        Assert.Equal("DPoP", answer["token_type"]);
        Assert.Equal(key.Thumbprint, answer.Body.GetProperty("cnf").GetProperty("jkt").GetString());
    }

    [Fact]
    public async Task BearerAccessToken_IntrospectsWithoutCnf()
    {
        var tokens = await client.PasswordAsync();

        var answer = await client.IntrospectAsync(tokens.AccessToken);

        Assert.Equal("true", answer["active"]);
        Assert.Equal("Bearer", answer["token_type"]);
        Assert.Null(answer["cnf"]);
    }
}
