using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace IdentityHost.Health;

/// <summary>Ready when OpenIddict holds a signing key (access and id tokens) and an encryption key (refresh tokens).</summary>
public sealed class KeysHealthCheck(IOptionsMonitor<OpenIddictServerOptions> server) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var options = server.CurrentValue;
        return Task.FromResult(options.SigningCredentials.Count > 0 && options.EncryptionCredentials.Count > 0
            ? HealthCheckResult.Healthy($"{options.SigningCredentials.Count} signing and {options.EncryptionCredentials.Count} encryption key(s) loaded.")
            : new HealthCheckResult(context.Registration.FailureStatus, "No signing or no encryption key is loaded."));
    }
}
