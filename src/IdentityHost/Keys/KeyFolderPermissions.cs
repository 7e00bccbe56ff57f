using IdentityHost.Configuration;

namespace IdentityHost.Keys;

/// <summary>
/// On Unix the keys are for the user running IdentityHost alone: the folder is made owner-only (0700) at start-up
/// (a checkout gives it 0755), and a key file that group or others may read or write stops start-up, naming the file.
/// Key files are created 0600 (<see cref="KeyFiles"/>). Windows relies on the folder's ACLs; nothing is checked there.
/// </summary>
public static class KeyFolderPermissions
{
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Takes group and others' access away from the folder (0755 becomes 0700).</summary>
    public static void RestrictFolder(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(directory);
        if ((mode & GroupOrOthers) == 0)
        {
            return;
        }

        try
        {
            File.SetUnixFileMode(directory, mode & ~GroupOrOthers);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new SetupException(
                $"The keys folder '{directory}' is open to group or others (mode {Octal(mode)}) and cannot be made owner-only ({ex.Message}); make the user running IdentityHost its owner, or run chmod 700 on it.", ex);
        }
    }

    /// <summary>Refuses a key file that anyone but its owner may read or write.</summary>
    public static void RequireOwnerOnly(string file)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(file);
        if ((mode & GroupOrOthers) != 0)
        {
            throw new SetupException(
                $"The key file '{file}' is readable or writable by group or others (mode {Octal(mode)}); a key file must be for its owner only: run chmod 600 on it.");
        }
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8).PadLeft(3, '0');
}
