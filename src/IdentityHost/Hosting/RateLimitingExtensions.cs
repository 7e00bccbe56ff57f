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
    /// ASP.NET Core's rate limiter on the token endpoint, the JSON facade and the login form, per remote IP and per
    /// client (<see cref="RateLimitOptions"/>), plus request size limits for every endpoint. The middleware itself runs
    /// in <see cref="TokenServerExtensions.UseTokenServer"/>, after the protocol form has been read.
    /// </summary>
    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .Bind(builder.Configuration.GetSection(RateLimitOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddSingleton<IConfigureOptions<RateLimiterOptions>, ConfigureRateLimiter>();

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

    private sealed class ConfigureRateLimiter(IOptions<RateLimitOptions> limits, IOptions<IdentityHostOptions> settings) : IConfigureOptions<RateLimiterOptions>
    {
        public void Configure(RateLimiterOptions options)
        {
            var value = limits.Value;
            if (!value.Enabled)
            {
                return;
            }

            var partitions = new RateLimitPartitions(value, settings.Value.Clients.Keys.ToHashSet(StringComparer.Ordinal));
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(partitions.PerIp),
                PartitionedRateLimiter.Create<HttpContext, string>(partitions.PerClient));
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (rejected, cancellation) => RejectAsync(rejected, value, cancellation);
        }

        /// <summary>
        /// <c>429</c>, <c>Retry-After</c> in seconds and, on the token endpoint and facade, an RFC 6749-style body with
        /// <c>slow_down</c> (the code RFC 8628 registers for token-endpoint responses asking a client to back off).
        /// </summary>
        private static async ValueTask RejectAsync(OnRejectedContext rejected, RateLimitOptions limits, CancellationToken cancellation)
        {
            var context = rejected.HttpContext;
            var endpoint = RateLimitPartitions.Classify(context.Request);
            var longestWindow = endpoint == LimitedEndpoint.Login
                ? limits.Login.PerIp.Window
                : TimeSpan.FromTicks(Math.Max(limits.Token.PerIp.Window.Ticks, limits.Token.PerClient.Window.Ticks));
            var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : longestWindow;
            var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));

            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers.CacheControl = "no-store";
            if (endpoint == LimitedEndpoint.Login)
            {
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync($"Too many sign-in attempts from your network. Try again in {seconds} seconds.", cancellation);
                return;
            }

            await context.Response.WriteAsJsonAsync(new Dictionary<string, string>
            {
                [Parameters.Error] = "slow_down",
                [Parameters.ErrorDescription] = $"Too many requests. Retry after {seconds} seconds; the request was not processed.",
            }, JsonSerializerOptions.Default, cancellation);
        }
    }
}
