using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using SampleApi.Hosting;

namespace SampleApi.Endpoints;

public static class ApiEndpoints
{
    /// <summary>The largest JSON body <c>POST /api/echo</c> reads; a larger one is 413.</summary>
    public const int MaxEchoBodyBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapApiEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/public", () => Results.Ok(new { message = "Anyone may read this." }));
        app.MapGet("/api/me", (ClaimsPrincipal user) => Results.Ok(new
        {
            sub = user.FindFirstValue("sub"),
            client_id = user.FindFirstValue("client_id"),
            scope = user.FindFirstValue("scope"),
            aud = user.FindFirstValue("aud"),
            exp = long.TryParse(user.FindFirstValue("exp"), out var exp) ? exp : (long?)null,
        })).RequireScope(AuthenticationExtensions.ApiScope);
        app.MapPost("/api/echo", EchoAsync).RequireScope(AuthenticationExtensions.ApiWriteScope);
        return app;
    }

    /// <summary>
    /// Sends the caller's JSON body back with who sent it. The body is parsed here, not by parameter binding, so any
    /// malformed, empty or non-JSON body is a 400 (or 413, 415) with an RFC 6749-style error in every environment.
    /// </summary>
    private static async Task<IResult> EchoAsync(HttpContext context, ClaimsPrincipal user)
    {
        if (!context.Request.HasJsonContentType())
        {
            return Error(StatusCodes.Status415UnsupportedMediaType, "The request body must be JSON (Content-Type: application/json).");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxEchoBodyBytes;
        }

        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            body = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return Error(StatusCodes.Status400BadRequest, "The request body is not valid JSON.");
        }
        catch (BadHttpRequestException ex)
        {
            return Error(ex.StatusCode, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"The request body is larger than {MaxEchoBodyBytes} bytes."
                : "The request body could not be read.");
        }

        return Results.Ok(new { sub = user.FindFirstValue("sub"), client_id = user.FindFirstValue("client_id"), body });
    }

    private static IResult Error(int status, string description) =>
        Results.Json(new { error = "invalid_request", error_description = description }, statusCode: status);
}
