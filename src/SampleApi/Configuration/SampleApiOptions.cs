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

    /// <summary><c>Jwt</c>: validate signatures locally against the issuer's JWKS.</summary>
    public string Validation { get; set; } = ValidationModes.Jwt;
}

public static class ValidationModes
{
    public const string Jwt = "Jwt";
}

public sealed class SampleApiOptionsValidator : IValidateOptions<SampleApiOptions>
{
    public ValidateOptionsResult Validate(string? name, SampleApiOptions options)
    {
        var errors = new List<string>();
        if (!options.Authority.IsAbsoluteUri || options.Authority.Scheme is not ("http" or "https"))
        {
            errors.Add($"{SampleApiOptions.SectionName}:Authority must be an absolute http(s) URI.");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            errors.Add($"{SampleApiOptions.SectionName}:Audience must not be empty.");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{SampleApiOptions.SectionName}:ClockSkew must be between 00:00:00 and 00:05:00.");
        }

        if (options.Validation != ValidationModes.Jwt)
        {
            errors.Add($"{SampleApiOptions.SectionName}:Validation is '{options.Validation}'; supported: '{ValidationModes.Jwt}'.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
