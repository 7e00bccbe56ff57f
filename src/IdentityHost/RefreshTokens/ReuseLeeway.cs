using IdentityHost.Tokens;
using IdentityHost.Configuration;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.RefreshTokens;

/// <summary>
/// <c>IdentityHost:RefreshTokens:ReuseLeeway</c>: a client that lost the response to a refresh may present the token it
/// just rotated once more within the leeway. Only the most recently spent token of the family qualifies, and only while
/// its successor was never used; the successor (which the client never received) is revoked, so the family still has
/// exactly one live refresh token. Revoking the successor is the concurrency gate: of two simultaneous retries, only
/// the one whose revocation wins is accepted. A token spent by a server that died before storing its successor is
/// accepted the same way, so a crash mid-refresh does not log the client out.
/// </summary>
public sealed class ReuseLeeway(IOpenIddictTokenManager tokens, AccessTokenRevocations accessTokens, IOptionsMonitor<IdentityHostOptions> options, TimeProvider time)
{
    public async Task<bool> TryAcceptRetryAsync(object token, string? familyId)
    {
        var leeway = options.CurrentValue.RefreshTokens.ReuseLeeway;
        var redeemedAt = await tokens.GetRedemptionDateAsync(token);
        if (leeway <= TimeSpan.Zero || familyId is null || redeemedAt is null || time.GetUtcNow() >= redeemedAt + leeway)
        {
            return false;
        }

        // Compared by id: the family is listed by a query that may hand back its own copy of the token.
        var tokenId = await tokens.GetIdAsync(token);
        var successors = new List<object>();
        var lostResponse = new List<object>();
        var refreshTokens = new List<object> { token };
        await foreach (var member in tokens.FindByAuthorizationIdAsync(familyId))
        {
            if (await tokens.GetIdAsync(member) == tokenId)
            {
                continue;
            }

            var isRefreshToken = await tokens.HasTypeAsync(member, TokenTypeIdentifiers.RefreshToken);
            if (isRefreshToken)
            {
                refreshTokens.Add(member);
            }

            if (await tokens.HasStatusAsync(member, Statuses.Valid))
            {
                (isRefreshToken ? successors : lostResponse).Add(member);
            }
            else if (isRefreshToken && await tokens.GetRedemptionDateAsync(member) is { } otherRedeemedAt && otherRedeemedAt >= redeemedAt)
            {
                return false; // another token of the family was spent as late or later: this one is not the latest.
            }
        }

        // No successor at all: the server stopped (crashed) after spending the token but before storing its successor.
        // Accept; the rotation's concurrency-checked write (Rotation) still lets only one concurrent retry through.
        if (successors.Count == 0)
        {
            return true;
        }

        // Revoking the successor is the gate; then the rest of the lost response (its access token) goes too, and
        // with it the access tokens the client still holds: it is refreshing because it needs a new one anyway.
        var revoked = false;
        foreach (var successor in successors)
        {
            revoked |= await tokens.TryRevokeAsync(successor);
        }

        if (revoked)
        {
            foreach (var member in lostResponse)
            {
                await tokens.TryRevokeAsync(member);
            }

            // Access tokens have no rows of their own: each is found by its jti on its refresh token's row.
            var now = time.GetUtcNow();
            foreach (var refreshToken in refreshTokens)
            {
                await accessTokens.RevokeSiblingAsync(refreshToken, now);
            }
        }

        return revoked;
    }
}
