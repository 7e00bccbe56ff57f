using IdentityHost.Commands;
using IdentityHost.Hosting;
using Serilog;

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateBootstrapLogger();

try
{
    // `-- help` (the list of commands) and an unknown command are answered before anything is built.
    var invocation = CommandLine.Classify(args);
    if (CommandLine.AnswerWithoutHost(invocation) is { } answered)
    {
        return answered;
    }

    var builder = WebApplication.CreateBuilder(args);

    // Console logs, readable in Development and JSON elsewhere; tokens, secrets and passwords are never logged
    // (request lines carry no query string; OpenIddict and ASP.NET Core hosting are silenced below Warning).
    builder.AddLogging(toStandardError: invocation.Kind == InvocationKind.Command);

    // Users, OpenIddict entities and migrations on SQLite (embedded) or PostgreSQL (several instances).
    builder.AddStorage();

    // The OAuth 2.0 / OpenID Connect engine, keys and refresh-token rules.
    builder.AddTokenServer();

    // Security events (sign-ins, replays, revocations, administrators' actions) to the log and the AuditEvents table.
    builder.AddAudit();

    // The login page and browser session for the authorization code flow; CORS for browser clients' origins.
    builder.AddInteractiveSignIn();
    builder.AddClientCors();

    // Per-IP and per-client rate limits on the token endpoint, the JSON facade and the login form; request size limits.
    builder.AddRateLimits();

    // Behind a TLS-terminating proxy: the client's IP and scheme from X-Forwarded-* headers (off unless configured).
    builder.AddProxyTrust();

    // /health/live and /health/ready (database answers, keys loaded) for orchestrators and load balancers.
    builder.AddHealthProbes();

    // Metrics and traces: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, Prometheus /metrics when configured, else none.
    builder.AddTelemetry();

    // Migrate, then synchronise clients, scopes and Development users before the first request.
    builder.AddSeeding();

    var app = builder.Build();

    // Operator commands (`-- revoke --user alice`, `-- keys rotate`) run against the same configuration and exit.
    if (invocation.Kind == InvocationKind.Command)
    {
        return await CommandLine.RunAsync(app, invocation.Command);
    }

    app.UseProxyTrust();
    app.UseRequestLogging();
    app.UseTelemetry();

    // Malformed protocol requests become RFC 6749 errors; rate limits apply; the JSON facade maps onto /connect/token;
    // then OpenIddict.
    app.UseTokenServer();
    app.MapHealthProbes();
    app.MapTokenServer();

    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is not HostAbortedException)
{
    // A configuration problem is one line per problem, without a stack trace; any other failure is logged in full.
    return StartupFailure.Report(ex);
}
finally
{
    await Log.CloseAndFlushAsync();
}

public partial class Program;
