using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace IdentityHost.Hosting;

public static class LoggingExtensions
{
    /// <summary>Console format: <c>Text</c> (readable) or <c>Json</c> (one compact JSON object per line).</summary>
    public const string FormatKey = "IdentityHost:LogFormat";

    /// <summary>
    /// Serilog from configuration (levels under <c>Serilog:MinimumLevel</c>), to the console: readable text in
    /// Development, compact JSON (<c>@t</c>, <c>@m</c>, <c>@l</c>, properties) elsewhere, or as <see cref="FormatKey"/>
    /// says. Start-up failures, logged through the static logger, use the same format.
    /// </summary>
    public static WebApplicationBuilder AddLogging(this WebApplicationBuilder builder)
    {
        var json = UseJson(builder.Configuration[FormatKey], builder.Environment);
        Log.Logger = ToConsole(new LoggerConfiguration(), json).CreateLogger();

        builder.Services.AddSerilog((services, logger) => ToConsole(logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext(), json),
            preserveStaticLogger: true);
        return builder;
    }

    /// <summary>
    /// One line per request: method, path (never the query string, which may carry an <c>id_token_hint</c>), status and
    /// duration. Successful health probes are not logged.
    /// </summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            options.IncludeQueryInRequestPath = false;
            options.GetLevel = (context, _, exception) =>
                exception is not null || context.Response.StatusCode >= StatusCodes.Status500InternalServerError ? LogEventLevel.Error
                : context.Request.Path.StartsWithSegments(HealthExtensions.BasePath, StringComparison.OrdinalIgnoreCase) ? LogEventLevel.Verbose
                : LogEventLevel.Information;
        });
        return app;
    }

    private static bool UseJson(string? format, IHostEnvironment environment) => format switch
    {
        null or "" => !environment.IsDevelopment(),
        _ when format.Equals("Json", StringComparison.OrdinalIgnoreCase) => true,
        _ when format.Equals("Text", StringComparison.OrdinalIgnoreCase) => false,
        _ => throw new InvalidOperationException($"{FormatKey} is '{format}'; allowed values are Text and Json."),
    };

    private static LoggerConfiguration ToConsole(LoggerConfiguration logger, bool json) =>
        json ? logger.WriteTo.Console(new RenderedCompactJsonFormatter()) : logger.WriteTo.Console();
}
