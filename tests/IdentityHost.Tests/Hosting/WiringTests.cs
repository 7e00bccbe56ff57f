using System.Net;
using IdentityHost.Protocol;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;

namespace IdentityHost.Tests.Hosting;

public sealed class WiringTests(IdentityHostFactory factory) : IClassFixture<IdentityHostFactory>
{
    [Fact]
    public void ApplicationManager_IsTheCachingOne()
    {
        using var scope = factory.Services.CreateScope();

        Assert.IsType<CachingApplicationManager>(scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>());
    }

    [Fact]
    public async Task SecretCache_NeverLetsAWrongSecretThrough_AfterARightOne()
    {
        var client = factory.CreateTokenClient();
        Assert.Equal(HttpStatusCode.OK, (await client.ClientCredentialsAsync()).Status);

        var wrong = await client.ClientCredentialsAsync(secret: "service-secreT");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal("invalid_client", wrong.Error);
    }
}
