using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Http;

/// <summary>
/// Runs before OpenIddict on protocol endpoints and turns malformed requests into RFC 6749 errors: OpenIddict's own
/// request extraction answers some of them (an unparsable Content-Type, an oversized form key) with an unhandled
/// exception. The form is read here once, within limits, and cached on the request for OpenIddict.
/// </summary>
public sealed class ProtocolRequestGuard(RequestDelegate next)
{
    /// <summary>Largest body accepted on a protocol endpoint; real requests are well under 8 KB.</summary>
    public const long MaxBodyBytes = 64 * 1024;

    private static readonly FormOptions Limits = new()
    {
        ValueCountLimit = 64,
        KeyLengthLimit = 256,
        ValueLengthLimit = (int)MaxBodyBytes,
        MultipartBodyLengthLimit = MaxBodyBytes,
    };

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsProtocolPath(context.Request.Path))
        {
            await next(context);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = MaxBodyBytes;
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, "The request body is too large.");
            return;
        }

        var contentType = context.Request.ContentType;
        if (contentType is not null && !MediaTypeHeaderValue.TryParse(contentType, out _))
        {
            await RejectAsync(context, StatusCodes.Status400BadRequest, "The Content-Type header is malformed.");
            return;
        }

        if (HasControlCharacter(context.Request.Query))
        {
            await RejectAsync(context, StatusCodes.Status400BadRequest, "Request parameters must not contain NUL characters.");
            return;
        }

        if (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType)
        {
            try
            {
                context.Features.Set<IFormFeature>(new FormFeature(context.Request, Limits));
                await context.Request.ReadFormAsync(context.RequestAborted);
            }
            catch (InvalidDataException)
            {
                await RejectAsync(context, StatusCodes.Status400BadRequest, "The request body is not a well-formed form within the size limits.");
                return;
            }
            catch (BadHttpRequestException ex)
            {
                await RejectAsync(context, ex.StatusCode, "The request body could not be read or is too large.");
                return;
            }
            catch (IOException) when (!context.RequestAborted.IsCancellationRequested)
            {
                // A multipart body that ends before its closing boundary.
                await RejectAsync(context, StatusCodes.Status400BadRequest, "The request body ends before the form does.");
                return;
            }
        }

        await next(context);
    }

    /// <summary>
    /// NUL is never part of a legitimate parameter, and PostgreSQL refuses it in text (a 500 from the database
    /// driver): such requests stop here, on every engine alike.
    /// </summary>
    internal static bool HasControlCharacter(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> parameters) =>
        parameters.Any(parameter => parameter.Key.Contains('\0', StringComparison.Ordinal) ||
                                    parameter.Value.Any(value => value?.Contains('\0', StringComparison.Ordinal) == true));

    private static bool IsProtocolPath(PathString path) =>
        path.StartsWithSegments("/connect", StringComparison.OrdinalIgnoreCase) ||
        path.StartsWithSegments("/api/token", StringComparison.OrdinalIgnoreCase);

    internal static Task RejectAsync(HttpContext context, int status, string description)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        return context.Response.WriteAsJsonAsync(new Dictionary<string, string>
        {
            [Parameters.Error] = Errors.InvalidRequest,
            [Parameters.ErrorDescription] = description,
        }, JsonSerializerOptions.Default, context.RequestAborted);
    }
}
