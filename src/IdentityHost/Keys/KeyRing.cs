using System.Globalization;
using System.Security.Cryptography;
using IdentityHost.Configuration;
using IdentityHost.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHost.Keys;

/// <summary>
/// The signing and encryption keys in <c>KeysPath</c>, newest first. Keys are generated only when the folder holds no
/// key at all: a missing or unreadable file next to others stops start-up, because silently minting a new encryption
/// key would invalidate every outstanding refresh token.
/// </summary>
public sealed class KeyRing
{
    internal const string SigningPrefix = "signing-";
    internal const string SigningExtension = ".pem";
    internal const string EncryptionPrefix = "encryption-";
    internal const string EncryptionExtension = ".key";
    private const string StampFormat = "yyyyMMdd'T'HHmmss'Z'";

    public KeyRing(IOptions<IdentityHostOptions> options, IHostEnvironment environment, TimeProvider time, ILogger<KeyRing> logger)
    {
        Directory = RepositoryPaths.Resolve(environment.ContentRootPath, options.Value.KeysPath);

        if (!System.IO.Directory.Exists(Directory) || !ListKeyFiles(Directory).Any())
        {
            Generate(Directory, time.GetUtcNow());
            logger.LogInformation("Generated a new RSA signing key and encryption key in {KeysPath}", Directory);
        }

        SigningKeys = LoadSigningKeys(Directory);
        EncryptionKeys = LoadEncryptionKeys(Directory);
        logger.LogInformation("Loaded {SigningCount} signing key(s) (active kid {KeyId}) and {EncryptionCount} encryption key(s) from {KeysPath}",
            SigningKeys.Count, SigningKeys[0].KeyId, EncryptionKeys.Count, Directory);
    }

    /// <summary>Absolute path of the keys folder.</summary>
    public string Directory { get; }

    /// <summary>Signing keys, newest (active) first; all are published in the JWKS.</summary>
    public IReadOnlyList<SecurityKey> SigningKeys { get; }

    /// <summary>Encryption keys, newest first; older ones still decrypt outstanding tokens.</summary>
    public IReadOnlyList<SymmetricSecurityKey> EncryptionKeys { get; }

    /// <summary>Creates a new signing key and a new encryption key in <paramref name="directory"/>.</summary>
    public static void Generate(string directory, DateTimeOffset now)
    {
        CreatePrivateDirectory(directory);
        var stamp = now.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture);

        using (var rsa = RSA.Create(2048))
        {
            WritePrivateFile(Path.Combine(directory, SigningPrefix + stamp + SigningExtension), rsa.ExportPkcs8PrivateKeyPem());
        }

        WritePrivateFile(Path.Combine(directory, EncryptionPrefix + stamp + EncryptionExtension),
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
    }

    private static IEnumerable<string> ListKeyFiles(string directory) =>
        System.IO.Directory.EnumerateFiles(directory, SigningPrefix + "*" + SigningExtension)
            .Concat(System.IO.Directory.EnumerateFiles(directory, EncryptionPrefix + "*" + EncryptionExtension));

    private static List<SecurityKey> LoadSigningKeys(string directory)
    {
        var keys = NewestFirst(directory, SigningPrefix, SigningExtension).Select(file =>
        {
            try
            {
                var rsa = RSA.Create();
                rsa.ImportFromPem(File.ReadAllText(file));
                if (rsa.KeySize < 2048)
                {
                    throw new CryptographicException($"the RSA key has {rsa.KeySize} bits; at least 2048 are required");
                }

                var key = new RsaSecurityKey(rsa);
                key.KeyId = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
                return (SecurityKey)key;
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                throw new InvalidOperationException($"The signing key file '{file}' cannot be read ({ex.Message}). Restore it from a backup; IdentityHost does not replace a broken key silently.", ex);
            }
        }).ToList();

        return keys.Count > 0
            ? keys
            : throw new InvalidOperationException($"The keys folder '{directory}' holds encryption keys but no signing key ({SigningPrefix}*{SigningExtension}). Restore it from a backup, or empty the folder to start over (every outstanding token is then lost).");
    }

    private static List<SymmetricSecurityKey> LoadEncryptionKeys(string directory)
    {
        var keys = NewestFirst(directory, EncryptionPrefix, EncryptionExtension).Select(file =>
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(File.ReadAllText(file).Trim());
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"The encryption key file '{file}' is not valid base64. Restore it from a backup; IdentityHost does not replace a broken key silently.", ex);
            }

            return bytes.Length == 32
                ? new SymmetricSecurityKey(bytes) { KeyId = Path.GetFileNameWithoutExtension(file) }
                : throw new InvalidOperationException($"The encryption key file '{file}' holds {bytes.Length} bytes; 32 are required.");
        }).ToList();

        return keys.Count > 0
            ? keys
            : throw new InvalidOperationException($"The keys folder '{directory}' holds signing keys but no encryption key ({EncryptionPrefix}*{EncryptionExtension}); without it every outstanding refresh token is unreadable. Restore it from a backup, or empty the folder to start over.");
    }

    private static IEnumerable<string> NewestFirst(string directory, string prefix, string extension) =>
        System.IO.Directory.EnumerateFiles(directory, prefix + "*" + extension).OrderByDescending(Path.GetFileName, StringComparer.Ordinal);

    private static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void WritePrivateFile(string path, string contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, options);
        writer.Write(contents);
    }
}
