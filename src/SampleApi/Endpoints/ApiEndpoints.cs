using System.Security.Claims;
using SampleApi.Hosting;

namespace SampleApi.Endpoints;

public static class ApiEndpoints
{
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
        })).RequireAuthorization(AuthenticationExtensions.ApiPolicy);
        return app;
    }
}
