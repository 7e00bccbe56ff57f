using System.Buffers;
using System.Buffers.Text;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHost.Storage.Stores;
using OpenIddict.Abstractions;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Tokens;

/// <summary>
/// JWT access tokens (RFC 9068) get no row of their own when they are issued: a refresh writes only its refresh token.
/// What a row was for is answered without one:
/// <list type="bullet">
/// <item>the token's family (its OpenIddict authorization, <c>oi_au_id</c>) is checked by OpenIddict's own
/// <c>ValidateAuthorizationEntry</c>, so a revoked family's access tokens introspect inactive, as before;</item>
/// <item>revoking one access token (RFC 7009) writes a row for it then, keyed by its <c>jti</c> and expiring with it
/// (<see cref="PrepareRevocationAsync"/>), which <see cref="CheckAsync"/> finds at introspection and userinfo;</item>
/// <item>a token whose client was removed is refused (<see cref="CheckAsync"/>), as deleting the client's rows did;</item>
/// <item>the reuse leeway, which revokes the access token of a lost response, finds its <c>jti</c> on the row of the
/// refresh token issued with it (<see cref="SiblingProperty"/>, <see cref="Note"/>, <see cref="RevokeSiblingAsync"/>).</item>
/// </list>
/// Access tokens issued before this change carry a row id (<c>oi_tkn_id</c>) and are checked against their row as before.
/// </summary>
public sealed class AccessTokenRevocations(
    IOpenIddictTokenManager tokens,
    IOpenIddictTokenStore<Token> store,
    IOpenIddictApplicationManager applications)
{
    /// <summary>Property of a refresh token's row: the <c>jti</c> and expiry of the access token issued with it.</summary>
    public const string SiblingProperty = "ih_at";

    public const string RevokedDescription = "The access token has been revoked.";
    public const string ClientRemovedDescription = "The client the access token was issued to no longer exists.";

    /// <summary>Null when an access token without a row of its own may be used; otherwise why not.</summary>
    public async Task<string?> CheckAsync(ClaimsPrincipal principal)
    {
        if (principal.GetClaim(Claims.JwtId) is { Length: > 0 } jti && await tokens.FindByIdAsync(jti) is { } row &&
            !await tokens.HasStatusAsync(row, Statuses.Valid))
        {
            return RevokedDescription;
        }

        foreach (var presenter in principal.GetPresenters())
        {
            if (await applications.FindByClientIdAsync(presenter) is null)
            {
                return ClientRemovedDescription;
            }
        }

        return null;
    }

    /// <summary>
    /// Before OpenIddict's RFC 7009 <c>RevokeToken</c>: gives an access token without a row one (valid, keyed by its
    /// <c>jti</c>, expiring with the token so the cleanup removes it), and points the principal at it, so that
    /// OpenIddict revokes it the way it revokes any stored token. False when the token has no <c>jti</c>.
    /// </summary>
    public async Task<bool> PrepareRevocationAsync(ClaimsPrincipal principal, string? clientId)
    {
        if (principal.GetClaim(Claims.JwtId) is not { Length: > 0 } jti)
        {
            return false;
        }

        if (await tokens.FindByIdAsync(jti) is null)
        {
            await CreateAsync(jti, Statuses.Valid, principal.GetCreationDate(), principal.GetExpirationDate(),
                principal.GetAuthorizationId(), principal.GetClaim(Claims.Subject), clientId ?? principal.GetPresenters().FirstOrDefault());
        }

        principal.SetTokenId(jti);
        return true;
    }

    /// <summary>
    /// <paramref name="properties"/> (a token row's JSON properties, or null) with <see cref="SiblingProperty"/> set to
    /// the <c>jti</c> and expiry of <paramref name="accessToken"/> (a compact JWS); unchanged when it is not a JWS with
    /// both claims.
    /// </summary>
    public static string? NoteSibling(string? properties, string? accessToken)
    {
        var first = accessToken?.IndexOf('.') ?? -1;
        var second = first < 0 ? -1 : accessToken!.IndexOf('.', first + 1);
        if (second < 0 || ReadJtiAndExpiry(accessToken.AsSpan(first + 1, second - first - 1)) is not { } read)
        {
            return properties;
        }

        var json = string.IsNullOrEmpty(properties) ? new JsonObject() : JsonNode.Parse(properties)!.AsObject();
        json[SiblingProperty] = new JsonObject { ["jti"] = read.Jti, ["exp"] = read.Expires };
        return json.ToJsonString();
    }

    /// <summary>
    /// Revokes the access token issued with <paramref name="refreshToken"/> (the leeway's lost response), if it has no
    /// row of its own and has not expired: a revoked row keyed by its <c>jti</c>.
    /// </summary>
    public async Task RevokeSiblingAsync(object refreshToken, DateTimeOffset now)
    {
        var properties = await tokens.GetPropertiesAsync(refreshToken);
        if (!properties.TryGetValue(SiblingProperty, out var sibling) || sibling.ValueKind is not JsonValueKind.Object ||
            !sibling.TryGetProperty("jti", out var jtiElement) || jtiElement.GetString() is not { Length: > 0 } jti ||
            !sibling.TryGetProperty("exp", out var expElement) || !expElement.TryGetInt64(out var exp))
        {
            return;
        }

        var expires = DateTimeOffset.FromUnixTimeSeconds(exp);
        if (expires <= now)
        {
            return;
        }

        if (await tokens.FindByIdAsync(jti) is { } row)
        {
            await tokens.TryRevokeAsync(row);
            return;
        }

        await CreateAsync(jti, Statuses.Revoked, now, expires, await tokens.GetAuthorizationIdAsync(refreshToken),
            await tokens.GetSubjectAsync(refreshToken), clientId: null, applicationId: await tokens.GetApplicationIdAsync(refreshToken));
    }

    private async Task CreateAsync(string jti, string status, DateTimeOffset? created, DateTimeOffset? expires,
        string? authorizationId, string? subject, string? clientId, string? applicationId = null)
    {
        if (applicationId is null && !string.IsNullOrEmpty(clientId) && await applications.FindByClientIdAsync(clientId) is { } application)
        {
            applicationId = await applications.GetIdAsync(application);
        }

        var descriptor = new OpenIddictTokenDescriptor
        {
            ApplicationId = applicationId,
            AuthorizationId = authorizationId,
            CreationDate = created,
            ExpirationDate = expires,
            Status = status,
            Subject = subject,
            Type = TokenTypeIdentifiers.AccessToken,
        };

        var token = await store.InstantiateAsync(default);
        await tokens.PopulateAsync(token, descriptor);
        token.Id = jti;
        try
        {
            await tokens.CreateAsync(token);
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            // Another request (a concurrent revocation) wrote the row first: the row exists, which is all that is needed.
            // Read from the store, past the manager's cache, which remembers that the row was missing a moment ago.
            if (await store.FindByIdAsync(jti, default) is null)
            {
                throw;
            }
        }
    }

    /// <summary>The <c>jti</c> and <c>exp</c> of a JWS payload (base64url JSON), read without building a token object.</summary>
    private static (string Jti, long Expires)? ReadJtiAndExpiry(ReadOnlySpan<char> payload)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(payload.Length));
        try
        {
            if (!Base64Url.TryDecodeFromChars(payload, buffer, out var written))
            {
                return null;
            }

            var reader = new Utf8JsonReader(buffer.AsSpan(0, written));
            string? jti = null;
            long? exp = null;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueTextEquals("jti"u8) ? 1 : reader.ValueTextEquals("exp"u8) ? 2 : 0;
                reader.Read();
                switch (name)
                {
                    case 1 when reader.TokenType == JsonTokenType.String:
                        jti = reader.GetString();
                        break;
                    case 2 when reader.TokenType == JsonTokenType.Number:
                        exp = reader.GetInt64();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            return jti is not null && exp is not null ? (jti, exp.Value) : null;
        }
        catch (JsonException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
