using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using IdentityHost.Configuration;
using IdentityHost.Dpop;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.MicroBench;

/// <summary>
/// What a DPoP token request adds on the server, against issue 9's budget of "one signature verification plus one
/// indexed insert": the bare ES256 verification of a proof-sized input (the budget's first half), the whole proof check
/// as the token endpoint runs it (key already seen), and the <c>jti</c> insert on an on-disk SQLite database set up as
/// the server's (the budget's second half).
/// </summary>
[MemoryDiagnoser]
public class DpopBenchmarks
{
    private const string Endpoint = "http://localhost:5001/connect/token";
    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private byte[] input = [];
    private byte[] signature = [];
    private string proof = "";
    private BenchDatabase database = null!;
    private AsyncServiceScope scope;
    private DpopReplayCache replays = null!;
    private long next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var q = key.ExportParameters(false).Q;
        var header = """{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":""" + $"\"{Encode(q.X!)}\",\"y\":\"{Encode(q.Y!)}\"}}}}";
        var claims = $$"""{"jti":"{{Guid.NewGuid()}}","htm":"POST","htu":"{{Endpoint}}","iat":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}}""";
        var signingInput = Encode(Encoding.UTF8.GetBytes(header)) + "." + Encode(Encoding.UTF8.GetBytes(claims));
        input = Encoding.ASCII.GetBytes(signingInput);
        signature = key.SignData(input, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        proof = signingInput + "." + Encode(signature);
        if (ValidateProof() is not null)
        {
            throw new InvalidOperationException("The benchmark's proof does not validate.");
        }

        database = await BenchDatabase.CreateAsync();
        scope = database.Services.CreateAsyncScope();
        replays = new DpopReplayCache(scope.ServiceProvider);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await scope.DisposeAsync();
        await database.DisposeAsync();
        key.Dispose();
    }

    /// <summary>One ES256 verification with an imported key: the budget's first half.</summary>
    [Benchmark(Baseline = true)]
    public bool VerifySignature() => key.VerifyData(input, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>The whole proof check (parsing, every RFC 9449 rule, thumbprint, signature), the key seen before.</summary>
    [Benchmark]
    public string? ValidateProof() =>
        DpopProofValidator.Validate(proof, "POST", new Uri(Endpoint), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5), DpopOptions.SigningAlgorithms).Error;

    /// <summary>The jti's single-use INSERT, a new jti each time: the budget's second half.</summary>
    [Benchmark]
    public Task<bool> InsertJti() =>
        replays.TryUseAsync("jti-" + Interlocked.Increment(ref next), DateTimeOffset.UtcNow.AddMinutes(5), CancellationToken.None);

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
