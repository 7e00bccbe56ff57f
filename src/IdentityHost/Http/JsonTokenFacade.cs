using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Http;

/// <summary>
/// The devise-jwt-style JSON facade for first-party web apps: <c>POST /api/token {"username","password"}</c> and
/// <c>POST /api/token/refresh {"refresh_token"}</c>. It implements no grant: it turns the JSON into the equivalent
/// <c>/connect/token</c> form request for client <c>web</c>, lets the very same OpenIddict pipeline handle it, and trims
/// the success response to <c>{access_token, refresh_token, token_type, expires_in}</c>. Errors pass through unchanged.
/// </summary>
public sealed class JsonTokenFacade(RequestDelegate next)
{
    public const string ClientId = "web";

    /// <summary>The path the client called, kept for checks that name it (a DPoP proof's <c>htu</c>).</summary>
    public const string OriginalPathItem = "IdentityHost.Facade.OriginalPath";
    public const string Scope = $"{Scopes.OfflineAccess} api";
    private const string SignInPath = "/api/token";
    private const string RefreshPath = "/api/token/refresh";
    private static readonly string[] ResponseFields = [Parameters.AccessToken, Parameters.RefreshToken, Parameters.TokenType, Parameters.ExpiresIn];

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var isSignIn = path.Equals(SignInPath, StringComparison.OrdinalIgnoreCase);
        if (!isSignIn && !path.Equals(RefreshPath, StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        var (form, error) = await ReadRequestAsync(context, isSignIn);
        if (form is null)
        {
            await ProtocolRequestGuard.RejectAsync(context, StatusCodes.Status400BadRequest, error!);
            return;
        }

        await ForwardAsync(context, form);
    }

    private static async Task<(Dictionary<string, string>? Form, string? Error)> ReadRequestAsync(HttpContext context, bool isSignIn)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            return (null, "The facade only accepts POST requests.");
        }

        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType) ||
            !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "The Content-Type must be application/json.");
        }

        JsonElement body;
        try
        {
            body = (await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted)).RootElement;
        }
        catch (JsonException)
        {
            return (null, "The request body is not valid JSON.");
        }
        catch (BadHttpRequestException)
        {
            return (null, "The request body could not be read or is too large.");
        }

        string[] fields = isSignIn ? [Parameters.Username, Parameters.Password] : [Parameters.RefreshToken];
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty(field, out var value) ||
                value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()) ||
                value.GetString()!.Contains('\0', StringComparison.Ordinal))
            {
                return (null, $"The JSON body must be an object with a non-empty string '{field}'.");
            }

            form[field] = value.GetString()!;
        }

        form[Parameters.ClientId] = ClientId;
        if (isSignIn)
        {
            form[Parameters.GrantType] = GrantTypes.Password;
            form[Parameters.Scope] = Scope;
        }
        else
        {
            form[Parameters.GrantType] = GrantTypes.RefreshToken;
        }

        return (form, null);
    }

    private async Task ForwardAsync(HttpContext context, Dictionary<string, string> form)
    {
        var originalPath = context.Request.Path;
        context.Items[OriginalPathItem] = originalPath;
        var originalBody = context.Response.Body;
        var encoded = await new FormUrlEncodedContent(form).ReadAsByteArrayAsync(context.RequestAborted);
        context.Request.Path = "/connect/token";
        context.Request.ContentType = "application/x-www-form-urlencoded";
        context.Request.ContentLength = encoded.Length;
        context.Request.Body = new MemoryStream(encoded);

        // OpenIddict reads the form as given, not re-parsed from the body: JSON strings may hold what form decoding
        // refuses (a NUL), and that must end as a protocol error, not an exception.
        context.Features.Set<IFormFeature>(new FormFeature(new FormCollection(form.ToDictionary(
            field => field.Key, field => new Microsoft.Extensions.Primitives.StringValues(field.Value), StringComparer.Ordinal))));

        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = originalBody;
            context.Request.Path = originalPath;
        }

        var payload = context.Response.StatusCode == StatusCodes.Status200OK ? Trim(buffer.ToArray()) : buffer.ToArray();
        context.Response.ContentLength = payload.Length;
        await originalBody.WriteAsync(payload, context.RequestAborted);
    }

    private static byte[] Trim(byte[] response)
    {
        using var document = JsonDocument.Parse(response);
        var trimmed = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var field in ResponseFields)
        {
            if (document.RootElement.TryGetProperty(field, out var value))
            {
                trimmed[field] = value.Clone();
            }
        }

        return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(trimmed));
    }
}
