using System.Globalization;
using System.Security.Cryptography;
using IdentityHost.Configuration;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHost.Keys;

/// <summary>
/// The key files in <c>KeysPath</c>: <c>signing-&lt;UTC stamp&gt;.pem</c> (RSA-2048, PKCS#8) and
/// <c>encryption-&lt;UTC stamp&gt;.key</c> (256-bit AES, base64), created owner-only (0600). A broken file, or one
/// group or others may read (<see cref="KeyFolderPermissions"/>), is an error naming it.
/// </summary>
public static class KeyFiles
{
    internal const string SigningPrefix = "signing-";
    internal const string SigningExtension = ".pem";
    internal const string EncryptionPrefix = "encryption-";
    internal const string EncryptionExtension = ".key";
    private const string StampFormat = "yyyyMMdd'T'HHmmssfff'Z'";
    private static readonly string[] StampFormats = [StampFormat, "yyyyMMdd'T'HHmmss'Z'"];

    /// <summary>Creates a new signing key and a new encryption key in <paramref name="directory"/>; returns the signing key file.</summary>
    public static string Generate(string directory, DateTimeOffset now, string algorithm = SecurityAlgorithms.RsaSha256)
    {
        CreatePrivateDirectory(directory);
        var stamp = now.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture);

        var signingFile = Path.Combine(directory, SigningPrefix + stamp + SigningExtension);
        if (algorithm == SecurityAlgorithms.EcdsaSha256)
        {
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            WritePrivateFile(signingFile, ecdsa.ExportPkcs8PrivateKeyPem());
        }
        else
        {
            using var rsa = RSA.Create(2048);
            WritePrivateFile(signingFile, rsa.ExportPkcs8PrivateKeyPem());
        }

        WritePrivateFile(Path.Combine(directory, EncryptionPrefix + stamp + EncryptionExtension),
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return signingFile;
    }

    public static IEnumerable<string> ListKeyFiles(string directory) =>
        System.IO.Directory.EnumerateFiles(directory, SigningPrefix + "*" + SigningExtension)
            .Concat(System.IO.Directory.EnumerateFiles(directory, EncryptionPrefix + "*" + EncryptionExtension));

    public static List<(SecurityKey Key, DateTimeOffset Created, string File)> LoadSigningKeys(string directory)
    {
        var keys = NewestFirst(directory, SigningPrefix, SigningExtension)
            .Select(file => (Key: (SecurityKey)ReadSigningKey(file), Created: ParseStamp(file, SigningPrefix), File: file))
            .ToList();

        return keys.Count > 0
            ? keys
            : throw new SetupException($"The keys folder '{directory}' holds encryption keys but no signing key ({SigningPrefix}*{SigningExtension}). Restore it from a backup, or empty the folder to start over (every outstanding token is then lost).");
    }

    /// <summary>An RSA (RS256, at least 2048 bits) or P-256 ECDSA (ES256) private key; its kid is the RFC 7638 thumbprint.</summary>
    public static AsymmetricSecurityKey ReadSigningKey(string file)
    {
        KeyFolderPermissions.RequireOwnerOnly(file);
        try
        {
            var pem = File.ReadAllText(file);
            AsymmetricSecurityKey key;
            try
            {
                var rsa = RSA.Create();
                rsa.ImportFromPem(pem);
                key = rsa.KeySize >= 2048 ? new RsaSecurityKey(rsa)
                    : throw new CryptographicException($"the RSA key has {rsa.KeySize} bits; at least 2048 are required");
            }
            catch (CryptographicException) when (!pem.Contains("RSA", StringComparison.Ordinal))
            {
                var ecdsa = ECDsa.Create();
                ecdsa.ImportFromPem(pem);
                key = ecdsa.KeySize == 256 ? new ECDsaSecurityKey(ecdsa)
                    : throw new CryptographicException($"the ECDSA key is on a {ecdsa.KeySize}-bit curve; P-256 is required");
            }

            key.KeyId = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
            return key;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new SetupException($"The signing key file '{file}' cannot be read ({ex.Message}). Restore it from a backup; IdentityHost does not replace a broken key silently.", ex);
        }
    }

    /// <summary>The JWS algorithm a signing key is used with: RS256 for RSA, ES256 for P-256.</summary>
    public static string AlgorithmOf(SecurityKey key) => key is ECDsaSecurityKey ? SecurityAlgorithms.EcdsaSha256 : SecurityAlgorithms.RsaSha256;

    private static DateTimeOffset ParseStamp(string file, string prefix)
    {
        var stamp = Path.GetFileNameWithoutExtension(file)[prefix.Length..];
        return DateTimeOffset.TryParseExact(stamp, StampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            ? created
            : throw new SetupException($"The key file name '{file}' does not carry a creation stamp ({prefix}{StampFormat}{Path.GetExtension(file)}).");
    }

    public static List<SymmetricSecurityKey> LoadEncryptionKeys(string directory)
    {
        var keys = NewestFirst(directory, EncryptionPrefix, EncryptionExtension).Select(file =>
        {
            KeyFolderPermissions.RequireOwnerOnly(file);
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(File.ReadAllText(file).Trim());
            }
            catch (FormatException ex)
            {
                throw new SetupException($"The encryption key file '{file}' is not valid base64. Restore it from a backup; IdentityHost does not replace a broken key silently.", ex);
            }

            return bytes.Length == 32
                ? new SymmetricSecurityKey(bytes) { KeyId = Path.GetFileNameWithoutExtension(file) }
                : throw new SetupException($"The encryption key file '{file}' holds {bytes.Length} bytes; 32 are required.");
        }).ToList();

        return keys.Count > 0
            ? keys
            : throw new SetupException($"The keys folder '{directory}' holds signing keys but no encryption key ({EncryptionPrefix}*{EncryptionExtension}); without it every outstanding refresh token is unreadable. Restore it from a backup, or empty the folder to start over.");
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

    /// <summary>
    /// Writes under a temporary name, then renames: another instance watching the folder never reads half a key.
    /// </summary>
    private static void WritePrivateFile(string path, string contents)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, ".tmp-" + Path.GetFileName(path));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(temporary, options))
        {
            writer.Write(contents);
        }

        File.Move(temporary, path);
    }
}
