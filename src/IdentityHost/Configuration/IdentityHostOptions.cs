namespace IdentityHost.Configuration;

/// <summary>Settings of the token server, bound from the <c>IdentityHost</c> configuration section.</summary>
public sealed class IdentityHostOptions
{
    public const string SectionName = "IdentityHost";

    /// <summary>Issuer URI written into every token and the discovery document. Defaults to <c>http://localhost:5001/</c>.</summary>
    public Uri Issuer { get; set; } = new("http://localhost:5001/");

    /// <summary>Folder holding the signing and encryption keys; relative paths start at the repository root. Defaults to <c>keys</c>.</summary>
    public string KeysPath { get; set; } = "keys";

    /// <summary>
    /// Algorithm of newly generated signing keys: <c>RS256</c> (RSA-2048, the default) or <c>ES256</c> (P-256, about ten
    /// times cheaper to sign with). Existing keys keep their algorithm; switch with <c>keys rotate</c>.
    /// </summary>
    public string SigningAlgorithm { get; set; } = "RS256";

    /// <summary>Lifetime of access tokens; a client may override it. Defaults to 1 hour.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Refresh-token lifetimes and reuse policy.</summary>
    public RefreshTokenOptions RefreshTokens { get; set; } = new();

    /// <summary>OAuth clients, keyed by client_id, synchronised into the store at start-up.</summary>
    public Dictionary<string, ClientOptions> Clients { get; set; } = new(StringComparer.Ordinal);

    /// <summary>API scopes, keyed by scope name, with the audiences (resources) they grant. Standard OIDC scopes need no entry.</summary>
    public Dictionary<string, ScopeOptions> Scopes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Signing/encryption key reloading.</summary>
    public KeyOptions Keys { get; set; } = new();

    /// <summary>Periodic deletion of dead tokens and authorizations.</summary>
    public CleanupOptions Cleanup { get; set; } = new();

    /// <summary>DPoP (RFC 9449) proof checking at the token endpoint.</summary>
    public DpopOptions Dpop { get; set; } = new();

    /// <summary>Users created at start-up when missing. Only honoured in Development.</summary>
    public List<DemoUserOptions> DemoUsers { get; set; } = [];
}

public sealed class RefreshTokenOptions
{
    /// <summary>Hard cap counted from the original sign-in; never extended by rotation. Defaults to 30 days.</summary>
    public TimeSpan AbsoluteLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Idle window: each rotation extends it, never past <see cref="AbsoluteLifetime"/>. Defaults to 15 days.</summary>
    public TimeSpan SlidingLifetime { get; set; } = TimeSpan.FromDays(15);

    /// <summary>Grace period in which the token just rotated may be presented again (a lost response). Defaults to zero.</summary>
    public TimeSpan ReuseLeeway { get; set; } = TimeSpan.Zero;
}

public sealed class KeyOptions
{
    /// <summary>How often the keys folder is re-read for keys rotated by another instance. Defaults to 1 minute.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromMinutes(1);
}

public sealed class CleanupOptions
{
    /// <summary>Whether the background cleanup runs. Defaults to true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Time between two cleanup passes. Defaults to 1 hour.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long dead rows are kept before deletion. A spent refresh token replayed within this period still revokes
    /// its family; later it is just unknown. Defaults to 7 days.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}

public sealed class ClientOptions
{
    /// <summary>Human-readable name shown on consent and log-in pages. Defaults to the client id.</summary>
    public string? DisplayName { get; set; }

    /// <summary>Client secret; a client without one is public. Stored hashed.</summary>
    public string? Secret { get; set; }

    /// <summary>Allowed grant types: <c>password</c>, <c>client_credentials</c>, <c>authorization_code</c>, <c>refresh_token</c>.</summary>
    public List<string> Grants { get; set; } = [];

    /// <summary>Scopes the client may request.</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>Redirect URIs for the authorization code flow, matched exactly.</summary>
    public List<Uri> RedirectUris { get; set; } = [];

    /// <summary>Where the client may be sent after sign-out, matched exactly.</summary>
    public List<Uri> PostLogoutRedirectUris { get; set; } = [];

    /// <summary>A first-party client gets no consent page and may opt into the legacy password grant. Defaults to false.</summary>
    public bool FirstParty { get; set; }

    /// <summary>Overrides <see cref="IdentityHostOptions.AccessTokenLifetime"/> for this client.</summary>
    public TimeSpan? AccessTokenLifetime { get; set; }

    /// <summary>Overrides the server's refresh-token lifetimes for this client.</summary>
    public ClientRefreshTokenOptions? RefreshTokens { get; set; }

    /// <summary>Every token request of this client must carry a DPoP proof (RFC 9449). Defaults to false.</summary>
    public bool RequireDpop { get; set; }
}

public sealed class ClientRefreshTokenOptions
{
    /// <summary>Overrides <see cref="RefreshTokenOptions.AbsoluteLifetime"/>.</summary>
    public TimeSpan? AbsoluteLifetime { get; set; }

    /// <summary>Overrides <see cref="RefreshTokenOptions.SlidingLifetime"/>.</summary>
    public TimeSpan? SlidingLifetime { get; set; }
}

public sealed class ScopeOptions
{
    /// <summary>Human-readable name of the scope.</summary>
    public string? DisplayName { get; set; }

    /// <summary>Audiences (<c>aud</c>) granted with this scope.</summary>
    public List<string> Resources { get; set; } = [];
}

public sealed class DemoUserOptions
{
    public string UserName { get; set; } = "";
    public string Password { get; set; } = "";
    public string? Email { get; set; }
}
