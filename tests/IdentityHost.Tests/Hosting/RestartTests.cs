using System.Net;

namespace IdentityHost.Tests.Hosting;

public sealed class RestartTests
{
    [Fact]
    public async Task Restart_SecondHostOnSameDatabaseAndKeys_AcceptsFirstHostsRefreshToken()
    {
        using var folder = new TestFolder();
        ProtocolResponse issued;
        using (var first = new IdentityHostFactory { Folder = folder })
        {
            issued = await first.CreateTokenClient().PasswordAsync();
        }

        using var second = new IdentityHostFactory { Folder = folder };
        var client = second.CreateTokenClient();
        var refreshed = await client.RefreshAsync(issued.RefreshToken);

        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.True((await client.IntrospectAsync(issued.AccessToken)).Body.GetProperty("active").GetBoolean());
        Assert.Equal(Jwt.Header(issued.AccessToken).GetProperty("kid").GetString(), Jwt.Header(refreshed.AccessToken).GetProperty("kid").GetString());
        Assert.Equal(2, Directory.GetFiles(folder.KeysPath).Length);
    }

    [Fact]
    public void Keys_AreCreatedReadableByTheOwnerOnly()
    {
        using var factory = new IdentityHostFactory();
        Assert.Null(factory.TryStart());

        var files = Directory.GetFiles(factory.Folder.KeysPath);
        Assert.Contains(files, file => Path.GetFileName(file).StartsWith("signing-", StringComparison.Ordinal));
        Assert.Contains(files, file => Path.GetFileName(file).StartsWith("encryption-", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            foreach (var file in files)
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }
    }
}
