using System.Security.Cryptography;

namespace IdentityHost.Engine;

/// <summary>
/// The SHA-256 OpenIddict hashes token handles with, registered under the name OpenIddict asks
/// <see cref="CryptoConfig"/> for ("OpenIddict SHA-256 Cryptographic Provider", its documented way to plug in a
/// SHA-256 implementation). OpenIddict asks for that name every time it hashes: twice per refresh (the presented
/// handle it looks up, the new handle it stores), and for every PKCE S256 check. With nothing registered,
/// <c>CryptoConfig.CreateFromName</c> falls through to <c>Type.GetType</c> on the name, which fails after parsing it
/// as a type name: ~11 µs per call on this machine, more than the hash itself. Registered, the look-up is a dictionary
/// hit. The hash is the platform's SHA-256 (<see cref="IncrementalHash"/>); nothing about the values changes.
/// Guarded by EngineGuards/HandleHashingTests (OpenIddict still asks for the name; stored handles still hash the same).
/// </summary>
public sealed class HandleHashing : SHA256
{
    /// <summary>The name OpenIddict resolves through <see cref="CryptoConfig.CreateFromName(string)"/>.</summary>
    public const string OpenIddictName = "OpenIddict SHA-256 Cryptographic Provider";

    private static int registered;
    private static long created;
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool pending;

    /// <summary>Called by <see cref="CryptoConfig"/> for each hash OpenIddict computes.</summary>
    public HandleHashing() => Interlocked.Increment(ref created);

    /// <summary>How many instances OpenIddict has asked for since the process started (for the guard test).</summary>
    internal static long Created => Interlocked.Read(ref created);

    /// <summary>Registers this type under OpenIddict's name, once per process (CryptoConfig is process-wide).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 0)
        {
            CryptoConfig.AddAlgorithm(typeof(HandleHashing), OpenIddictName);
        }
    }

    public override void Initialize()
    {
        // Taking the hash resets IncrementalHash; only data appended since then must be dropped.
        if (pending)
        {
            hash.GetHashAndReset();
            pending = false;
        }
    }

    protected override void HashCore(byte[] array, int ibStart, int cbSize) => HashCore(array.AsSpan(ibStart, cbSize));

    protected override void HashCore(ReadOnlySpan<byte> source)
    {
        hash.AppendData(source);
        pending = true;
    }

    protected override byte[] HashFinal()
    {
        pending = false;
        return hash.GetHashAndReset();
    }

    protected override bool TryHashFinal(Span<byte> destination, out int bytesWritten)
    {
        pending = false;
        return hash.TryGetHashAndReset(destination, out bytesWritten);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
