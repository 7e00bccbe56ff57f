using IdentityHost.Configuration;
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
    /// <param name="builder">The application being built.</param>
    /// <param name="toStandardError">An operator command runs: its output (e.g. <c>audit --json</c>) owns standard
    /// output, so log lines go to standard error, and only fatal ones unless Debug is configured: a failing command
    /// prints its own one line (<see cref="Commands.CommandLine"/>), not the log lines of what failed under it.</param>
    public static WebApplicationBuilder AddLogging(this WebApplicationBuilder builder, bool toStandardError = false)
    {
        var json = UseJson(builder.Configuration[FormatKey], builder.Environment);
        // The static logger reports start-up failures; at the configured Debug level it also shows them in full.
        var level = DefaultLevel(builder.Configuration["Serilog:MinimumLevel:Default"] ?? builder.Configuration["Serilog:MinimumLevel"]);
        Log.Logger = ToConsole(new LoggerConfiguration().MinimumLevel.Is(level), json, toStandardError).CreateLogger();

        builder.Services.AddSerilog((services, logger) => ToConsole(logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            .Filter.ByExcluding(CarriesSecrets)
            .Filter.ByExcluding(IsConfigurationProblemReportedAtExit)
            .Filter.ByExcluding(logEvent => toStandardError && level > LogEventLevel.Debug && logEvent.Level < LogEventLevel.Fatal), json, toStandardError),
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
            // The configured logger (levels, enrichers, sinks): without it the middleware writes to the static logger.
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.IncludeQueryInRequestPath = false;
            options.GetLevel = (context, _, exception) =>
                exception is not null || context.Response.StatusCode >= StatusCodes.Status500InternalServerError ? LogEventLevel.Error
                : context.Request.Path.StartsWithSegments(HealthExtensions.BasePath, StringComparison.OrdinalIgnoreCase) ? LogEventLevel.Verbose
                : LogEventLevel.Information;
        });
        return app;
    }

    /// <summary>
    /// Below Warning, OpenIddict logs issued tokens, reference ids and extracted requests (with the PKCE code_verifier),
    /// and ASP.NET Core's hosting diagnostics log every request URL with its query (an id_token_hint). Those events are
    /// dropped whatever the configured levels say; the request line above replaces the hosting ones.
    /// </summary>
    private static bool CarriesSecrets(LogEvent logEvent) =>
        logEvent.Level < LogEventLevel.Warning &&
        logEvent.Properties.TryGetValue(Serilog.Core.Constants.SourceContextPropertyName, out var value) &&
        value is ScalarValue { Value: string source } &&
        (source.StartsWith("OpenIddict", StringComparison.Ordinal) || source == "Microsoft.AspNetCore.Hosting.Diagnostics");

    /// <summary>
    /// The host logs a failed start with the exception's stack trace; a configuration problem is reported once instead,
    /// one line per problem, by <see cref="StartupFailure"/> as the process exits.
    /// </summary>
    private static bool IsConfigurationProblemReportedAtExit(LogEvent logEvent) =>
        logEvent.Exception is { } exception &&
        logEvent.Properties.TryGetValue(Serilog.Core.Constants.SourceContextPropertyName, out var value) &&
        value is ScalarValue { Value: "Microsoft.Extensions.Hosting.Internal.Host" } &&
        StartupFailure.Problems(exception) is not null;

    private static bool UseJson(string? format, IHostEnvironment environment) => format switch
    {
        null or "" => !environment.IsDevelopment(),
        _ when format.Equals("Json", StringComparison.OrdinalIgnoreCase) => true,
        _ when format.Equals("Text", StringComparison.OrdinalIgnoreCase) => false,
        _ => throw new SetupException($"{FormatKey} is '{format}'; allowed values are Text and Json."),
    };

    private static LogEventLevel DefaultLevel(string? configured) =>
        Enum.TryParse<LogEventLevel>(configured, ignoreCase: true, out var level)
            ? level
            : LogEventLevel.Information;

    private static LoggerConfiguration ToConsole(LoggerConfiguration logger, bool json, bool toStandardError)
    {
        LogEventLevel? fromLevel = toStandardError ? LogEventLevel.Verbose : null;
        return json
            ? logger.WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: fromLevel)
            : logger.WriteTo.Console(standardErrorFromLevel: fromLevel);
    }
}
