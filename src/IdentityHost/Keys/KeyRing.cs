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
    private const string StampFormat = "yyyyMMdd'T'HHmmssfff'Z'";
    private static readonly string[] StampFormats = [StampFormat, "yyyyMMdd'T'HHmmss'Z'"];

    /// <summary>How long a replaced signing key stays published beyond the longest access-token lifetime (clock skew).</summary>
    private static readonly TimeSpan PublicationMargin = TimeSpan.FromMinutes(5);

    private readonly TimeProvider time;
    private readonly TimeSpan retireAfter;

    public KeyRing(IOptions<IdentityHostOptions> options, IHostEnvironment environment, TimeProvider time, ILogger<KeyRing> logger)
    {
        this.time = time;
        Directory = RepositoryPaths.Resolve(environment.ContentRootPath, options.Value.KeysPath);

        // A replaced signing key is published until every access token it signed has expired.
        var longestAccessToken = options.Value.Clients.Values
            .Select(client => client.AccessTokenLifetime ?? TimeSpan.Zero)
            .Append(options.Value.AccessTokenLifetime)
            .Max();
        retireAfter = longestAccessToken + PublicationMargin;

        if (!System.IO.Directory.Exists(Directory) || !ListKeyFiles(Directory).Any())
        {
            Generate(Directory, time.GetUtcNow());
            logger.LogInformation("Generated a new RSA signing key and encryption key in {KeysPath}", Directory);
        }

        AllSigningKeys = LoadSigningKeys(Directory);
        SigningKeys = AllSigningKeys.Where((key, index) => index == 0 || AllSigningKeys[index - 1].Created + retireAfter > time.GetUtcNow())
            .Select(key => key.Key).ToList();
        EncryptionKeys = LoadEncryptionKeys(Directory);
        logger.LogInformation("Loaded {SigningCount} signing key(s) (active kid {KeyId}) and {EncryptionCount} encryption key(s) from {KeysPath}",
            SigningKeys.Count, SigningKeys[0].KeyId, EncryptionKeys.Count, Directory);
    }

    /// <summary>Absolute path of the keys folder.</summary>
    public string Directory { get; }

    /// <summary>Signing keys not yet retired, newest (active) first; all are published in the JWKS.</summary>
    /// <remarks>OpenIddict orders credentials with List.Sort, which is stable for the handful of keys kept here.</remarks>
    public IReadOnlyList<SecurityKey> SigningKeys { get; }

    /// <summary>Every signing key file, newest first, retired ones included.</summary>
    internal IReadOnlyList<(SecurityKey Key, DateTimeOffset Created, string File)> AllSigningKeys { get; }

    /// <summary>Encryption keys, newest first; older ones still decrypt outstanding tokens.</summary>
    public IReadOnlyList<SymmetricSecurityKey> EncryptionKeys { get; }

    /// <summary>Creates a new signing key and encryption key next to the current ones; returns the new key id.</summary>
    /// <remarks>Running servers keep their keys until restarted.</remarks>
    public string Rotate()
    {
        var file = Generate(Directory, time.GetUtcNow());
        return ReadSigningKey(file).KeyId;
    }

    /// <summary>One line per key file: which signs, which are only published, which are retired.</summary>
    public IEnumerable<string> Describe()
    {
        foreach (var (key, created, file) in AllSigningKeys)
        {
            var state = ReferenceEquals(key, SigningKeys[0]) ? "active: signs new tokens"
                : SigningKeys.Contains(key) ? "published: validates tokens it signed"
                : "retired: no longer published";
            yield return $"{Path.GetFileName(file)}  kid={key.KeyId}  created={created:u}  {state}";
        }

        foreach (var key in EncryptionKeys)
        {
            yield return $"{key.KeyId}{EncryptionExtension}  {(ReferenceEquals(key, EncryptionKeys[0]) ? "active: encrypts new refresh tokens" : "kept: decrypts older refresh tokens")}";
        }
    }

    /// <summary>Creates a new signing key and a new encryption key in <paramref name="directory"/>; returns the signing key file.</summary>
    public static string Generate(string directory, DateTimeOffset now)
    {
        CreatePrivateDirectory(directory);
        var stamp = now.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture);

        var signingFile = Path.Combine(directory, SigningPrefix + stamp + SigningExtension);
        using (var rsa = RSA.Create(2048))
        {
            WritePrivateFile(signingFile, rsa.ExportPkcs8PrivateKeyPem());
        }

        WritePrivateFile(Path.Combine(directory, EncryptionPrefix + stamp + EncryptionExtension),
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return signingFile;
    }

    private static IEnumerable<string> ListKeyFiles(string directory) =>
        System.IO.Directory.EnumerateFiles(directory, SigningPrefix + "*" + SigningExtension)
            .Concat(System.IO.Directory.EnumerateFiles(directory, EncryptionPrefix + "*" + EncryptionExtension));

    private static List<(SecurityKey Key, DateTimeOffset Created, string File)> LoadSigningKeys(string directory)
    {
        var keys = NewestFirst(directory, SigningPrefix, SigningExtension)
            .Select(file => (Key: (SecurityKey)ReadSigningKey(file), Created: ParseStamp(file, SigningPrefix), File: file))
            .ToList();

        return keys.Count > 0
            ? keys
            : throw new InvalidOperationException($"The keys folder '{directory}' holds encryption keys but no signing key ({SigningPrefix}*{SigningExtension}). Restore it from a backup, or empty the folder to start over (every outstanding token is then lost).");
    }

    private static RsaSecurityKey ReadSigningKey(string file)
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
            return key;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"The signing key file '{file}' cannot be read ({ex.Message}). Restore it from a backup; IdentityHost does not replace a broken key silently.", ex);
        }
    }

    private static DateTimeOffset ParseStamp(string file, string prefix)
    {
        var stamp = Path.GetFileNameWithoutExtension(file)[prefix.Length..];
        return DateTimeOffset.TryParseExact(stamp, StampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            ? created
            : throw new InvalidOperationException($"The key file name '{file}' does not carry a creation stamp ({prefix}{StampFormat}{Path.GetExtension(file)}).");
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
