using OpenIddict.Abstractions;

namespace IdentityHost.Audit;

/// <summary>
/// What the client synchroniser changed in a stored client, named by part (never a value: the secret's is a hash, the
/// rest is in configuration), so that a start-up that changes nothing raises no <c>client.changed</c> event.
/// </summary>
public static class ClientChanges
{
    public static IReadOnlyDictionary<string, string> Snapshot(OpenIddictApplicationDescriptor client) => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["display_name"] = client.DisplayName ?? "",
        ["client_type"] = client.ClientType ?? "",
        ["consent_type"] = client.ConsentType ?? "",
        ["permissions"] = Join(client.Permissions),
        ["requirements"] = Join(client.Requirements),
        ["redirect_uris"] = Join(client.RedirectUris.Select(uri => uri.OriginalString)),
        ["post_logout_redirect_uris"] = Join(client.PostLogoutRedirectUris.Select(uri => uri.OriginalString)),
        ["settings"] = Join(client.Settings.Select(setting => setting.Key + "=" + setting.Value)),
    };

    /// <summary><c>changed=permissions,secret</c>, or null when nothing changed.</summary>
    public static string? Describe(IReadOnlyDictionary<string, string> before, OpenIddictApplicationDescriptor after, bool secretChanged)
    {
        var now = Snapshot(after);
        var parts = now.Where(part => before[part.Key] != part.Value).Select(part => part.Key).ToList();
        if (secretChanged)
        {
            parts.Add("secret");
        }

        return parts.Count == 0 ? null : "changed=" + string.Join(',', parts);
    }

    private static string Join(IEnumerable<string> values) => string.Join(' ', values.Order(StringComparer.Ordinal));
}
