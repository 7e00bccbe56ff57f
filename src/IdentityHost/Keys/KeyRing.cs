using IdentityHost.Configuration;
using IdentityHost.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHost.Keys;

/// <summary>
/// The live set of keys in <c>KeysPath</c>, newest first. Keys are generated only when the folder holds no key at all:
/// a missing or unreadable file next to others stops start-up, because silently minting a new encryption key would
/// invalidate every outstanding refresh token. On Unix the folder is made owner-only at start-up, and key files others
/// may read stop it (<see cref="KeyFolderPermissions"/>). <see cref="Reload"/> (called by <see cref="KeyRingWatcher"/>)
/// picks up keys another instance or <c>keys rotate</c> added, and retires replaced signing keys as time passes; every
/// change fires <see cref="GetChangeToken"/>, which makes OpenIddict rebuild its options with the new credentials.
/// </summary>
public sealed class KeyRing : IDisposable
{
    /// <summary>How long a replaced signing key stays published beyond the longest access-token lifetime (clock skew).</summary>
    private static readonly TimeSpan PublicationMargin = TimeSpan.FromMinutes(5);

    private readonly TimeProvider time;
    private readonly TimeSpan retireAfter;
    private readonly string algorithm;
    private readonly ILogger<KeyRing> logger;
    private readonly Lock gate = new();
    private KeySet current;
    private CancellationTokenSource changed = new();

    public KeyRing(IOptions<IdentityHostOptions> options, IHostEnvironment environment, TimeProvider time, ILogger<KeyRing> logger)
    {
        this.time = time;
        this.logger = logger;
        algorithm = options.Value.SigningAlgorithm;
        Directory = RepositoryPaths.Resolve(environment.ContentRootPath, options.Value.KeysPath);

        // A replaced signing key is published until every access token it signed has expired.
        var longestAccessToken = options.Value.Clients.Values
            .Select(client => client.AccessTokenLifetime ?? TimeSpan.Zero)
            .Append(options.Value.AccessTokenLifetime)
            .Max();
        retireAfter = longestAccessToken + PublicationMargin;

        try
        {
            if (!System.IO.Directory.Exists(Directory) || !KeyFiles.ListKeyFiles(Directory).Any())
            {
                KeyFiles.Generate(Directory, time.GetUtcNow(), algorithm);
                logger.LogInformation("Generated a new {Algorithm} signing key and encryption key in {KeysPath}", algorithm, Directory);
            }

            KeyFolderPermissions.RestrictFolder(Directory);
            current = Load();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SetupException(
                $"The keys folder '{Directory}' cannot be read or created ({ex.Message}); check IdentityHost:KeysPath, and that the user running IdentityHost may read and write it.", ex);
        }

        Log(current);
    }

    /// <summary>Absolute path of the keys folder.</summary>
    public string Directory { get; }

    /// <summary>Signing keys not yet retired, newest (active) first; all are published in the JWKS.</summary>
    /// <remarks>OpenIddict orders credentials with List.Sort, which is stable for the handful of keys kept here.</remarks>
    public IReadOnlyList<SecurityKey> SigningKeys => current.SigningKeys;

    /// <summary>Encryption keys, newest first; older ones still decrypt outstanding tokens.</summary>
    public IReadOnlyList<SymmetricSecurityKey> EncryptionKeys => current.EncryptionKeys;

    /// <summary>Every signing key file, newest first, retired ones included.</summary>
    internal IReadOnlyList<(SecurityKey Key, DateTimeOffset Created, string File)> AllSigningKeys => current.AllSigningKeys;

    /// <summary>Fires once when the key set changes.</summary>
    public IChangeToken GetChangeToken()
    {
        lock (gate)
        {
            return new CancellationChangeToken(changed.Token);
        }
    }

    /// <summary>Reads the folder again; true (and the change token fires) when the published keys changed.</summary>
    public bool Reload()
    {
        var next = Load();
        CancellationTokenSource previous;
        lock (gate)
        {
            if (next.Fingerprint == current.Fingerprint)
            {
                return false;
            }

            current = next;
            previous = changed;
            changed = new CancellationTokenSource();
        }

        Log(next);
        previous.Cancel();
        previous.Dispose();
        return true;
    }

    /// <summary>Creates a new signing key and encryption key next to the current ones; returns the new key id.</summary>
    /// <remarks>Running instances pick them up within <c>IdentityHost:Keys:ReloadInterval</c>.</remarks>
    public string Rotate()
    {
        var file = KeyFiles.Generate(Directory, time.GetUtcNow(), algorithm);
        return KeyFiles.ReadSigningKey(file).KeyId;
    }

    /// <summary>One line per key file: which signs, which are only published, which are retired.</summary>
    public IEnumerable<string> Describe()
    {
        var keys = current;
        foreach (var (key, created, file) in keys.AllSigningKeys)
        {
            var state = ReferenceEquals(key, keys.SigningKeys[0]) ? "active: signs new tokens"
                : keys.SigningKeys.Contains(key) ? "published: validates tokens it signed"
                : "retired: no longer published";
            yield return $"{Path.GetFileName(file)}  {KeyFiles.AlgorithmOf(key)}  kid={key.KeyId}  created={created:u}  {state}";
        }

        foreach (var key in keys.EncryptionKeys)
        {
            yield return $"{key.KeyId}{KeyFiles.EncryptionExtension}  {(ReferenceEquals(key, keys.EncryptionKeys[0]) ? "active: encrypts new refresh tokens" : "kept: decrypts older refresh tokens")}";
        }
    }

    public void Dispose() => changed.Dispose();

    private KeySet Load()
    {
        var all = KeyFiles.LoadSigningKeys(Directory);
        var now = time.GetUtcNow();
        var published = all.Where((key, index) => index == 0 || all[index - 1].Created + retireAfter > now).Select(key => key.Key).ToList();
        var encryption = KeyFiles.LoadEncryptionKeys(Directory);
        var fingerprint = string.Join(",", published.Select(key => key.KeyId).Concat(encryption.Select(key => key.KeyId)));
        return new KeySet(all, published, encryption, fingerprint);
    }

    private void Log(KeySet keys) =>
        logger.LogInformation("Loaded {SigningCount} signing key(s) (active kid {KeyId}) and {EncryptionCount} encryption key(s) from {KeysPath}",
            keys.SigningKeys.Count, keys.SigningKeys[0].KeyId, keys.EncryptionKeys.Count, Directory);

    private sealed record KeySet(
        IReadOnlyList<(SecurityKey Key, DateTimeOffset Created, string File)> AllSigningKeys,
        IReadOnlyList<SecurityKey> SigningKeys,
        IReadOnlyList<SymmetricSecurityKey> EncryptionKeys,
        string Fingerprint);
}
