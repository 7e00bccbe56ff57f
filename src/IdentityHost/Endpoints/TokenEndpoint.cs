using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;

namespace IdentityHost.Endpoints;

/// <summary>
/// <c>POST /connect/token</c>. OpenIddict has already authenticated the client and checked its grant and scope
/// permissions; for a refresh token or code it has validated the token and the refresh-token rules have checked its
/// stored status (RefreshTokens/). This endpoint decides who the new tokens are for; the presented token is spent only
/// when they are stored, after it returns (<see cref="RefreshTokens.Rotation"/>).
/// </summary>
public static class TokenEndpoint
{
    public static IEndpointRouteBuilder MapTokenEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapPost("connect/token", (Delegate)HandleAsync).ExcludeFromDescription();
        return app;
    }

    private static Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.GetOpenIddictServerRequest() ??
            throw new InvalidOperationException("The OpenIddict server request cannot be retrieved: is the token endpoint passthrough enabled?");
        var services = context.RequestServices;

        if (request.IsPasswordGrantType())
        {
            return services.GetRequiredService<PasswordGrant>().HandleAsync(request);
        }

        if (request.IsClientCredentialsGrantType())
        {
            return Task.FromResult(services.GetRequiredService<ClientCredentialsGrant>().Handle(request));
        }

        if (request.IsRefreshTokenGrantType() || request.IsAuthorizationCodeGrantType())
        {
            return services.GetRequiredService<ExchangeGrant>().HandleAsync(context);
        }

        // OpenIddict rejects grant types that are not enabled before the request reaches this endpoint.
        throw new InvalidOperationException($"The grant type '{request.GrantType}' is enabled in OpenIddict but has no handler.");
    }
}
