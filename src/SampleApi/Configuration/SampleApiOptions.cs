using Microsoft.Extensions.Options;

namespace SampleApi.Configuration;

/// <summary>How the API validates access tokens, bound from the <c>SampleApi</c> section.</summary>
public sealed class SampleApiOptions
{
    public const string SectionName = "SampleApi";

    /// <summary>Issuer the API trusts; discovery and JWKS are read from it. Defaults to <c>http://localhost:5001/</c>.</summary>
    public Uri Authority { get; set; } = new("http://localhost:5001/");

    /// <summary>Required <c>aud</c> of every access token. Defaults to <c>sample-api</c>.</summary>
    public string Audience { get; set; } = "sample-api";

    /// <summary>Tolerated clock skew on <c>exp</c> and <c>nbf</c>. Defaults to 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>Jwt</c>: validate signatures locally against the issuer's JWKS. <c>Introspection</c>: ask the issuer about every
    /// token (RFC 7662), so a revoked token is refused at once. Defaults to <c>Jwt</c>.
    /// </summary>
    public string Validation { get; set; } = ValidationModes.Jwt;

    /// <summary>Client id the API authenticates with at the introspection endpoint. Defaults to <c>sample-api</c>.</summary>
    public string ClientId { get; set; } = "sample-api";

    /// <summary>Client secret for introspection; no default, required when <see cref="Validation"/> is <c>Introspection</c>.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>
    /// How long an introspection answer (active or not) is reused for the same token, never past the token's <c>exp</c>;
    /// zero disables the cache. A revoked token is still accepted until its cached answer runs out. Defaults to 5 seconds.
    /// </summary>
    public TimeSpan IntrospectionCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How far a DPoP proof's <c>iat</c> may be from this API's clock; also how long its <c>jti</c> is remembered. Defaults to 5 minutes.</summary>
    public TimeSpan DpopProofLifetime { get; set; } = TimeSpan.FromMinutes(5);
}

public static class ValidationModes
{
    public const string Jwt = "Jwt";
    public const string Introspection = "Introspection";
}

public sealed class SampleApiOptionsValidator(IHostEnvironment environment) : IValidateOptions<SampleApiOptions>
{
    private const string Section = SampleApiOptions.SectionName;
    private static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(5);

    public ValidateOptionsResult Validate(string? name, SampleApiOptions options)
    {
        var errors = new List<string>();
        if (!options.Authority.IsAbsoluteUri || options.Authority.Scheme is not ("http" or "https"))
        {
            errors.Add($"{Section}:Authority must be an absolute http(s) URI.");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            errors.Add($"{Section}:Audience must not be empty.");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > MaxDuration)
        {
            errors.Add($"{Section}:ClockSkew must be between 00:00:00 and 00:05:00.");
        }

        if (options.IntrospectionCacheDuration < TimeSpan.Zero || options.IntrospectionCacheDuration > MaxDuration)
        {
            errors.Add($"{Section}:IntrospectionCacheDuration must be between 00:00:00 and 00:05:00.");
        }

        if (options.DpopProofLifetime <= TimeSpan.Zero || options.DpopProofLifetime > TimeSpan.FromHours(1))
        {
            errors.Add($"{Section}:DpopProofLifetime must be positive and at most 01:00:00.");
        }

        if (options.Validation == ValidationModes.Introspection)
        {
            ValidateIntrospection(options, errors);
        }
        else if (options.Validation != ValidationModes.Jwt)
        {
            errors.Add($"{Section}:Validation is '{options.Validation}'; supported: '{ValidationModes.Jwt}', '{ValidationModes.Introspection}'.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private void ValidateIntrospection(SampleApiOptions options, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            errors.Add($"{Section}:ClientId must not be empty when {Section}:Validation is '{ValidationModes.Introspection}'.");
        }

        if (string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            errors.Add($"{Section}:ClientSecret is required when {Section}:Validation is '{ValidationModes.Introspection}'.");
        }

        // The client secret travels to the authority on every introspection call.
        if (options.Authority.IsAbsoluteUri && options.Authority.Scheme != Uri.UriSchemeHttps && !environment.IsDevelopment())
        {
            errors.Add($"{Section}:Authority must use https outside Development when {Section}:Validation is '{ValidationModes.Introspection}'.");
        }
    }
}
