using SampleApi.Endpoints;
using SampleApi.Hosting;
using Serilog;

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateBootstrapLogger();

try
{
    var builder = WebApplication.CreateBuilder(args);

    // Structured console logs with one line per request.
    builder.Services.AddSerilog((services, logger) => logger
        .ReadFrom.Configuration(builder.Configuration)
        .ReadFrom.Services(services)
        .WriteTo.Console(),
            preserveStaticLogger: true);

    // Access tokens from IdentityHost, validated the way any ASP.NET Core resource server would.
    builder.AddApiAuthentication();

    // Traces and metrics (ASP.NET Core, HttpClient: discovery, JWKS, introspection) over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    builder.AddTelemetry();

    var app = builder.Build();

    app.UseSerilogRequestLogging();

    // The sample SPA (static files) signs in with IdentityHost and calls this API.
    app.MapSpa();
    app.UseAuthentication();
    app.UseAuthorization();

    app.MapApiEndpoints();

    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is not HostAbortedException)
{
    Log.Fatal(ex, "SampleApi failed to start");
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}

public partial class Program;
