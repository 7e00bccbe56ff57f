namespace IdentityHost.Storage;

/// <summary>
/// A DPoP proof's <c>jti</c> seen at the token endpoint (RFC 9449 §11.1), shared by every instance so a proof is used
/// once across them. Kept until <see cref="ExpiresAt"/>, when the proof's <c>iat</c> is out of the window anyway; then
/// pruned by the cleanup service.
/// </summary>
public sealed class DpopProofUse
{
    public const int IdLength = 43;

    /// <summary>base64url(SHA-256(jti)): fixed length whatever the client sent.</summary>
    public string Id { get; set; } = "";

    /// <summary>Unix time (seconds) after which the row may be deleted.</summary>
    public long ExpiresAt { get; set; }
}
