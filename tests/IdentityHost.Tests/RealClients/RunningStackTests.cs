using System.Net;
using System.Net.Sockets;

namespace IdentityHost.Tests.RealClients;

/// <summary>The real-process stack that newman and browser tests run against.</summary>
public sealed class RunningStackTests
{
    [Fact]
    public async Task StartAsync_PortTakenBeforeTheServerBinds_StartsAgainOnOtherPorts()
    {
        TcpListener? squatter = null;
        try
        {
            using var stack = await RunningStack.StartAsync(options =>
            {
                if (squatter is null)
                {
                    squatter = new TcpListener(IPAddress.Loopback, new Uri(options.IdentityHostUrl).Port);
                    squatter.Start();
                }
            });

            Assert.NotEqual(((IPEndPoint)squatter!.LocalEndpoint).Port, new Uri(stack.IdentityHostUrl).Port);
            using var http = new HttpClient();
            using var response = await http.GetAsync($"{stack.SampleApiUrl}/api/public");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            squatter?.Dispose();
        }
    }

    [Fact]
    public async Task StartAsync_ExtraSettingBreaksIdentityHost_FailsWithItsOutput()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunningStack.StartAsync(
            options => options.IdentityHostEnvironment["IdentityHost__AccessTokenLifetime"] = "not-a-timespan"));

        Assert.Contains("IdentityHost exited", error.Message);
        Assert.Contains("IdentityHost:AccessTokenLifetime", error.Message);
    }
}
