using System.Runtime.Versioning;
using IdentityHost.Configuration;
using IdentityHost.Keys;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.Tests.Hosting;

/// <summary>
/// The keys are the server's alone: the keys folder is made owner-only (0700) at start-up, whatever mode it came with
/// (a checkout gives <c>keys/</c> 0755), and a key file that group or others may read stops start-up, naming the file.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class KeyFolderPermissionTests
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [UnixOnlyFact]
    public void KeysFolderOpenToOthers_IsMadeOwnerOnly_AtStartUp()
    {
        using var folder = new TestFolder();
        Directory.CreateDirectory(folder.KeysPath);
        File.SetUnixFileMode(folder.KeysPath, OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        using var factory = new IdentityHostFactory { Folder = folder };
        Assert.Null(factory.TryStart());

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(folder.KeysPath));
    }

    [UnixOnlyFact]
    public void KeyFileReadableByGroup_IsRefused_NamingTheFile()
    {
        using var folder = new TestFolder();
        using (var first = new IdentityHostFactory { Folder = folder })
        {
            Assert.Null(first.TryStart());
        }

        var signingKey = Directory.GetFiles(folder.KeysPath, "signing-*").Single();
        File.SetUnixFileMode(signingKey, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        // In memory the key ring is built lazily; the real process stops with this one line (StartupValidationTests).
        using var second = new IdentityHostFactory { Folder = folder };
        var error = Assert.Throws<SetupException>(() => second.Services.GetRequiredService<KeyRing>());

        Assert.Contains(signingKey, error.Message);
        Assert.Contains("mode 0640", error.Message);
        Assert.Contains("chmod 600", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
