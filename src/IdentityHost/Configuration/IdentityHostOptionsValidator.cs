using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Configuration;

/// <summary>Cross-field rules for <see cref="IdentityHostOptions"/>; every message names the setting path.</summary>
public sealed class IdentityHostOptionsValidator : IValidateOptions<IdentityHostOptions>
{
    private const string Prefix = IdentityHostOptions.SectionName;

    internal static readonly string[] KnownGrants =
        [GrantTypes.Password, GrantTypes.ClientCredentials, GrantTypes.AuthorizationCode, GrantTypes.RefreshToken];

    internal static readonly string[] StandardScopes =
        [Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.OfflineAccess];

    public ValidateOptionsResult Validate(string? name, IdentityHostOptions options)
    {
        var errors = new List<string>();

        if (!options.Issuer.IsAbsoluteUri || options.Issuer.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(options.Issuer.Query))
        {
            errors.Add($"{Prefix}:Issuer must be an absolute http(s) URI without a query string.");
        }

        if (options.SigningAlgorithm is not ("RS256" or "ES256"))
        {
            errors.Add($"{Prefix}:SigningAlgorithm is '{options.SigningAlgorithm}'; use RS256 or ES256.");
        }

        if (string.IsNullOrWhiteSpace(options.KeysPath))
        {
            errors.Add($"{Prefix}:KeysPath must not be empty.");
        }

        ValidateLifetimes(errors, Prefix, options.AccessTokenLifetime,
            options.RefreshTokens.AbsoluteLifetime, options.RefreshTokens.SlidingLifetime);

        if (options.RefreshTokens.ReuseLeeway < TimeSpan.Zero)
        {
            errors.Add($"{Prefix}:RefreshTokens:ReuseLeeway must not be negative.");
        }

        if (options.Dpop.ProofLifetime <= TimeSpan.Zero || options.Dpop.ProofLifetime > TimeSpan.FromHours(1))
        {
            errors.Add($"{Prefix}:Dpop:ProofLifetime must be positive and at most 01:00:00.");
        }

        if (options.Dpop.NonceLifetime <= TimeSpan.Zero || options.Dpop.NonceLifetime > TimeSpan.FromHours(1))
        {
            errors.Add($"{Prefix}:Dpop:NonceLifetime must be positive and at most 01:00:00.");
        }

        if (options.Keys.ReloadInterval <= TimeSpan.Zero)
        {
            errors.Add($"{Prefix}:Keys:ReloadInterval must be positive.");
        }

        if (options.Cleanup.Interval <= TimeSpan.Zero)
        {
            errors.Add($"{Prefix}:Cleanup:Interval must be positive.");
        }

        if (options.Cleanup.Retention < options.RefreshTokens.ReuseLeeway || options.Cleanup.Retention <= TimeSpan.Zero)
        {
            errors.Add($"{Prefix}:Cleanup:Retention must be positive and at least RefreshTokens:ReuseLeeway.");
        }

        foreach (var (scope, settings) in options.Scopes)
        {
            if (string.IsNullOrWhiteSpace(scope) || scope.Any(char.IsWhiteSpace))
            {
                errors.Add($"{Prefix}:Scopes:{scope} is not a valid scope name.");
            }

            if (settings.Resources.Any(string.IsNullOrWhiteSpace))
            {
                errors.Add($"{Prefix}:Scopes:{scope}:Resources must not contain empty values.");
            }
        }

        foreach (var (clientId, client) in options.Clients)
        {
            ValidateClient(errors, options, clientId, client);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateClient(List<string> errors, IdentityHostOptions options, string clientId, ClientOptions client)
    {
        var path = $"{Prefix}:Clients:{clientId}";
        var isPublic = string.IsNullOrEmpty(client.Secret);

        foreach (var grant in client.Grants.Where(grant => !KnownGrants.Contains(grant)))
        {
            errors.Add($"{path}:Grants contains '{grant}'; allowed values are {string.Join(", ", KnownGrants)}.");
        }

        if (client.Grants.Contains(GrantTypes.Password) && !client.FirstParty)
        {
            errors.Add($"{path}:Grants contains 'password', which only first-party clients may opt into (set {path}:FirstParty to true).");
        }

        if (client.Grants.Contains(GrantTypes.ClientCredentials) && isPublic)
        {
            errors.Add($"{path}:Grants contains 'client_credentials', which needs a confidential client ({path}:Secret).");
        }

        if (client.Grants.Contains(GrantTypes.AuthorizationCode) && !client.FirstParty)
        {
            errors.Add($"{path}:Grants contains 'authorization_code'; this version has no consent page, so only first-party clients may use it (set {path}:FirstParty to true).");
        }

        if (client.Grants.Contains(GrantTypes.AuthorizationCode) && client.RedirectUris.Count == 0)
        {
            errors.Add($"{path}:RedirectUris must list at least one URI for the authorization_code grant.");
        }

        if (client.Grants.Contains(GrantTypes.RefreshToken) && !client.Grants.Any(grant => grant is GrantTypes.Password or GrantTypes.AuthorizationCode))
        {
            errors.Add($"{path}:Grants contains 'refresh_token' but no grant that can issue one (password or authorization_code).");
        }

        foreach (var uri in client.RedirectUris.Concat(client.PostLogoutRedirectUris).Where(uri => !uri.IsAbsoluteUri || !string.IsNullOrEmpty(uri.Fragment)))
        {
            errors.Add($"{path}: redirect URI '{uri}' must be absolute and carry no fragment.");
        }

        foreach (var scope in client.Scopes.Where(scope => !StandardScopes.Contains(scope) && !options.Scopes.ContainsKey(scope)))
        {
            errors.Add($"{path}:Scopes contains '{scope}', which is neither a standard scope nor declared under {Prefix}:Scopes.");
        }

        // A client that overrides no lifetime has the server-wide ones, checked once: one problem, one line.
        if (client.AccessTokenLifetime is not null || client.RefreshTokens is not null)
        {
            ValidateLifetimes(errors, path,
                client.AccessTokenLifetime ?? options.AccessTokenLifetime,
                client.RefreshTokens?.AbsoluteLifetime ?? options.RefreshTokens.AbsoluteLifetime,
                client.RefreshTokens?.SlidingLifetime ?? options.RefreshTokens.SlidingLifetime);
        }
    }

    private static void ValidateLifetimes(List<string> errors, string path, TimeSpan access, TimeSpan absolute, TimeSpan sliding)
    {
        if (access <= TimeSpan.Zero)
        {
            errors.Add($"{path}:AccessTokenLifetime must be positive.");
        }

        if (absolute <= TimeSpan.Zero)
        {
            errors.Add($"{path}:RefreshTokens:AbsoluteLifetime must be positive.");
        }

        if (sliding <= TimeSpan.Zero)
        {
            errors.Add($"{path}:RefreshTokens:SlidingLifetime must be positive.");
        }
        else if (sliding > absolute)
        {
            errors.Add($"{path}:RefreshTokens:SlidingLifetime must not exceed AbsoluteLifetime ({sliding:c} > {absolute:c}).");
        }

        if (access > TimeSpan.Zero && sliding > TimeSpan.Zero && access >= sliding)
        {
            errors.Add($"{path}:AccessTokenLifetime must be shorter than RefreshTokens:SlidingLifetime ({access:c} >= {sliding:c}).");
        }
    }
}

/// <summary>Rejects unknown database providers and a PostgreSQL set-up without a connection string.</summary>
public sealed class DatabaseOptionsValidator(IConfiguration configuration) : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (string.Equals(options.Provider, DatabaseProviders.Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Success;
        }

        if (!string.Equals(options.Provider, DatabaseProviders.Postgres, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Fail(
                $"{DatabaseOptions.SectionName}:Provider is '{options.Provider}'; use '{DatabaseProviders.Sqlite}' or '{DatabaseProviders.Postgres}'.");
        }

        return string.IsNullOrWhiteSpace(configuration.GetConnectionString(DatabaseOptions.ConnectionStringName))
            ? ValidateOptionsResult.Fail(
                $"{DatabaseOptions.SectionName}:Provider is '{DatabaseProviders.Postgres}', so ConnectionStrings:{DatabaseOptions.ConnectionStringName} must be a PostgreSQL connection string (Host=…;Database=…;Username=…;Password=…).")
            : ValidateOptionsResult.Success;
    }
}
