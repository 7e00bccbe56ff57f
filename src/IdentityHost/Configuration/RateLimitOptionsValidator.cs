using Microsoft.Extensions.Options;

namespace IdentityHost.Configuration;

/// <summary>Every rule needs a positive limit and a window of at least a second; messages name the setting path.</summary>
public sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    private static readonly TimeSpan MinimumWindow = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaximumWindow = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var errors = new List<string>();
        Validate(errors, "Token:PerIp", options.Token.PerIp);
        Validate(errors, "Token:PerClient", options.Token.PerClient);
        Validate(errors, "Token:PerPublicClientAndIp", options.Token.PerPublicClientAndIp);
        Validate(errors, "Login:PerIp", options.Login.PerIp);
        Validate(errors, "Login:PerUser", options.Login.PerUser);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Validate(List<string> errors, string path, RateLimitRule? rule)
    {
        var prefix = $"{RateLimitOptions.SectionName}:{path}";
        if (rule is null)
        {
            errors.Add($"{prefix} must not be empty.");
            return;
        }

        if (rule.PermitLimit <= 0)
        {
            errors.Add($"{prefix}:PermitLimit must be positive.");
        }

        if (rule.Window < MinimumWindow || rule.Window > MaximumWindow)
        {
            errors.Add($"{prefix}:Window must be between 00:00:01 and 1.00:00:00.");
        }
    }
}
