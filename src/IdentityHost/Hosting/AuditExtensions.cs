using IdentityHost.Audit;
using IdentityHost.Configuration;
using Microsoft.Extensions.Options;

namespace IdentityHost.Hosting;

public static class AuditExtensions
{
    /// <summary>Security events: structured log events, metrics and the <c>AuditEvents</c> table (see docs/audit.md).</summary>
    public static WebApplicationBuilder AddAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuditOptions>()
            .Bind(builder.Configuration.GetSection(AuditOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<AuditTrail>().AddHostedService(services => services.GetRequiredService<AuditTrail>());
        builder.Services.AddSingleton<SecurityEvents>();
        return builder;
    }
}
