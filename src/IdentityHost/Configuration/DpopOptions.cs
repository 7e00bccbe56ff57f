namespace IdentityHost.Configuration;

/// <summary>DPoP (RFC 9449) settings, bound from <c>IdentityHost:Dpop</c>.</summary>
public sealed class DpopOptions
{
    /// <summary>The algorithms a proof may be signed with, as advertised in discovery.</summary>
    public static readonly IReadOnlyList<string> SigningAlgorithms = ["ES256", "ES384", "RS256", "PS256"];

    /// <summary>
    /// How far a proof's <c>iat</c> may be from the server clock, either way; also how long a used <c>jti</c> is
    /// remembered. Defaults to 5 minutes.
    /// </summary>
    public TimeSpan ProofLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether proofs must carry a server-provided nonce (RFC 9449 §8). Defaults to false.</summary>
    public bool RequireNonce { get; set; }

    /// <summary>How long a server nonce stays valid (it is accepted for up to twice this). Defaults to 5 minutes.</summary>
    public TimeSpan NonceLifetime { get; set; } = TimeSpan.FromMinutes(5);
}
