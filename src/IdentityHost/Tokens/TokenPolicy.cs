using System.Security.Claims;
using IdentityHost.Configuration;
using IdentityHost.RefreshTokens;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;

namespace IdentityHost.Tokens;

/// <summary>
/// Applies the configured scopes, audiences and lifetimes to a principal about to be signed in. The refresh-token
/// lifetime is the family's (<see cref="RefreshLifetime"/>).
/// </summary>
public sealed class TokenPolicy(IOptionsMonitor<IdentityHostOptions> options, TimeProvider time)
{
    /// <summary>
    /// The first requested scope the client's configuration does not list, or null. OpenIddict checks scope
    /// permissions itself but exempts <c>openid</c>; this makes the configured list the whole truth.
    /// </summary>
    public string? FindDisallowedScope(string clientId, IEnumerable<string> scopes) =>
        options.CurrentValue.Clients.TryGetValue(clientId, out var client)
            ? scopes.FirstOrDefault(scope => !client.Scopes.Contains(scope, StringComparer.Ordinal))
            : null;

    /// <summary>
    /// <paramref name="scopes"/> less those the client's configuration no longer lists: a family keeps no scope its
    /// client has lost since it began.
    /// </summary>
    public IReadOnlyCollection<string> AllowedNow(string clientId, IEnumerable<string> scopes) =>
        options.CurrentValue.Clients.TryGetValue(clientId, out var client)
            ? scopes.Where(scope => client.Scopes.Contains(scope, StringComparer.Ordinal)).ToArray()
            : [];

    /// <summary>Prepares <paramref name="principal"/> for <paramref name="clientId"/>; false when the family is past its absolute lifetime.</summary>
    public bool TryApply(ClaimsPrincipal principal, string clientId, IEnumerable<string> scopes)
    {
        var settings = options.CurrentValue;
        var client = settings.Clients.GetValueOrDefault(clientId);
        var granted = scopes.ToHashSet(StringComparer.Ordinal);

        principal.SetScopes(granted);
        principal.SetResources(granted
            .SelectMany(scope => settings.Scopes.TryGetValue(scope, out var declared) ? declared.Resources : [])
            .Distinct(StringComparer.Ordinal));

        principal.SetAccessTokenLifetime(client?.AccessTokenLifetime ?? settings.AccessTokenLifetime);

        var sliding = client?.RefreshTokens?.SlidingLifetime ?? settings.RefreshTokens.SlidingLifetime;
        var absolute = client?.RefreshTokens?.AbsoluteLifetime ?? settings.RefreshTokens.AbsoluteLifetime;
        var now = time.GetUtcNow();
        if (RefreshLifetime.Next(ClaimsFactory.GetFamilyCreated(principal) ?? now, now, sliding, absolute) is not { } lifetime)
        {
            return false;
        }

        principal.SetRefreshTokenLifetime(lifetime);
        ClaimsFactory.SetDestinations(principal);
        return true;
    }
}
