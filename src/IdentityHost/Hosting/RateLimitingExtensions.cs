using System.Globalization;
using System.Text.Json;
using System.Threading.RateLimiting;
using IdentityHost.Configuration;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Hosting;

public static class RateLimitingExtensions
{
    /// <summary>Largest request body the server reads at all; protocol endpoints allow far less (see ProtocolRequestGuard).</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    /// <summary>
    /// Rate limits (<see cref="RateLimitOptions"/>): ASP.NET Core's rate limiter per remote IP in front of the token
    /// endpoint and the JSON facade (the middleware runs in <see cref="TokenServerExtensions.UseTokenServer"/>); per
    /// client once it has authenticated, and per IP and user name on every password sign-in (<see cref="RequestBudgets"/>,
    /// <see cref="TokenRequestLimits"/>, the login page). Plus request size limits for every endpoint.
    /// </summary>
    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .Bind(builder.Configuration.GetSection(RateLimitOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddSingleton<IConfigureOptions<RateLimiterOptions>, ConfigureRateLimiter>();
        builder.Services.AddSingleton<RequestBudgets>();

        builder.Services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        builder.Services.Configure<FormOptions>(options =>
        {
            options.ValueCountLimit = 64;
            options.KeyLengthLimit = 256;
            options.ValueLengthLimit = (int)MaxRequestBodyBytes;
            options.MultipartBodyLengthLimit = MaxRequestBodyBytes;
        });
        return builder;
    }

    private sealed class ConfigureRateLimiter(IOptions<RateLimitOptions> limits) : IConfigureOptions<RateLimiterOptions>
    {
        public void Configure(RateLimiterOptions options)
        {
            var value = limits.Value;
            if (!value.Enabled)
            {
                return;
            }

            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(new RateLimitPartitions(value).PerIp);
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (rejected, cancellation) => RejectAsync(rejected, value, cancellation);
        }

        /// <summary>
        /// <c>429</c>, <c>Retry-After</c> in seconds and an RFC 6749-style body with <c>slow_down</c> (the code RFC 8628
        /// registers for token-endpoint responses asking a client to back off).
        /// </summary>
        private static async ValueTask RejectAsync(OnRejectedContext rejected, RateLimitOptions limits, CancellationToken cancellation)
        {
            var context = rejected.HttpContext;
            context.RequestServices.GetRequiredService<Telemetry.IdentityHostTelemetry>().CountRateLimitRejection(Telemetry.IdentityHostTelemetry.RateLimitPolicy.PerIp);
            var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : limits.Token.PerIp.Window;
            var seconds = Engine.TokenRequestLimits.Seconds(retryAfter);

            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers.CacheControl = "no-store";
            await context.Response.WriteAsJsonAsync(new Dictionary<string, string>
            {
                [Parameters.Error] = "slow_down",
                [Parameters.ErrorDescription] = Engine.TokenRequestLimits.Description(seconds),
            }, JsonSerializerOptions.Default, cancellation);
        }
    }
}
