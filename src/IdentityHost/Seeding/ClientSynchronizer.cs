using IdentityHost.Audit;
using IdentityHost.Configuration;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Seeding;

/// <summary>
/// Makes the stored clients and scopes match configuration, the source of truth: declared ones are created or updated
/// (secrets stored hashed, re-hashed only when they change); a stored client that configuration no longer declares is
/// deleted with its token families and tokens, so its secret no longer authenticates and its refresh tokens are unknown.
/// A confidential client whose secret disappeared from configuration stops start-up instead of turning public.
/// </summary>
public sealed class ClientSynchronizer(
    IOpenIddictApplicationManager applications,
    IOpenIddictScopeManager scopes,
    ILogger<ClientSynchronizer> logger,
    SecurityEvents events)
{
    public async Task SynchronizeAsync(IdentityHostOptions settings, CancellationToken cancellationToken)
    {
        foreach (var (name, scope) in settings.Scopes)
        {
            await SynchronizeScopeAsync(name, scope, cancellationToken);
        }

        foreach (var (clientId, client) in settings.Clients)
        {
            await SynchronizeClientAsync(clientId, client, cancellationToken);
        }

        await RemoveUndeclaredClientsAsync(settings, cancellationToken);
    }

    /// <summary>
    /// Deletes the stored clients configuration no longer declares. OpenIddict's store deletes a client's tokens and
    /// authorizations with it, in one transaction. Instances cache a client for <c>ApplicationCache.Lifetime</c>, so
    /// another running instance stops accepting it within that time; this one at once.
    /// </summary>
    private async Task RemoveUndeclaredClientsAsync(IdentityHostOptions settings, CancellationToken cancellationToken)
    {
        // Listed first, deleted after: the listing streams from the database, which cannot take writes meanwhile.
        var undeclared = new List<object>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, cancellationToken))
        {
            var clientId = await applications.GetClientIdAsync(application, cancellationToken);
            if (clientId is not null && !settings.Clients.ContainsKey(clientId))
            {
                undeclared.Add(application);
            }
        }

        foreach (var application in undeclared)
        {
            var clientId = await applications.GetClientIdAsync(application, cancellationToken);
            await applications.DeleteAsync(application, cancellationToken);
            logger.LogWarning("Client {ClientId} is no longer configured: it was deleted with its tokens", clientId);
            await events.ClientConfigurationAsync(AuditEventTypes.ClientRemoved, clientId!, "deleted with its token families and tokens");
        }
    }

    private async Task SynchronizeScopeAsync(string name, ScopeOptions scope, CancellationToken cancellationToken)
    {
        var descriptor = new OpenIddictScopeDescriptor { Name = name, DisplayName = scope.DisplayName ?? name };
        descriptor.Resources.UnionWith(scope.Resources);

        var existing = await scopes.FindByNameAsync(name, cancellationToken);
        if (existing is null)
        {
            await scopes.CreateAsync(descriptor, cancellationToken);
        }
        else
        {
            await scopes.UpdateAsync(existing, descriptor, cancellationToken);
        }
    }

    private async Task SynchronizeClientAsync(string clientId, ClientOptions client, CancellationToken cancellationToken)
    {
        var existing = await applications.FindByClientIdAsync(clientId, cancellationToken);
        var descriptor = new OpenIddictApplicationDescriptor();
        var keepStoredSecret = false;
        IReadOnlyDictionary<string, string>? before = null;
        if (existing is not null)
        {
            if (string.IsNullOrEmpty(client.Secret) && await applications.HasClientTypeAsync(existing, ClientTypes.Confidential, cancellationToken))
            {
                throw new SetupException(
                    $"{IdentityHostOptions.SectionName}:Clients:{clientId}:Secret is missing, but client '{clientId}' is stored as confidential; set its secret again (a confidential client never turns public silently), or give a public client another client id.");
            }

            // Start from the stored state so an unchanged secret keeps its hash instead of being re-hashed.
            await applications.PopulateAsync(descriptor, existing, cancellationToken);
            before = ClientChanges.Snapshot(descriptor);
            keepStoredSecret = client.Secret is not null &&
                await applications.HasClientTypeAsync(existing, ClientTypes.Confidential, cancellationToken) &&
                await applications.ValidateClientSecretAsync(existing, client.Secret, cancellationToken);
        }

        Describe(descriptor, clientId, client);
        if (!keepStoredSecret)
        {
            descriptor.ClientSecret = client.Secret;
        }

        if (existing is null)
        {
            await applications.CreateAsync(descriptor, cancellationToken);
            logger.LogInformation("Created client {ClientId}", clientId);
            await events.ClientConfigurationAsync(AuditEventTypes.ClientCreated, clientId);
        }
        else
        {
            await applications.UpdateAsync(existing, descriptor, cancellationToken);
            if (ClientChanges.Describe(before!, descriptor, secretChanged: !keepStoredSecret && client.Secret is not null) is { } changed)
            {
                await events.ClientConfigurationAsync(AuditEventTypes.ClientChanged, clientId, changed);
            }
        }
    }

    private static void Describe(OpenIddictApplicationDescriptor descriptor, string clientId, ClientOptions client)
    {
        var confidential = !string.IsNullOrEmpty(client.Secret);
        descriptor.ClientId = clientId;
        descriptor.DisplayName = client.DisplayName ?? clientId;
        descriptor.ClientType = confidential ? ClientTypes.Confidential : ClientTypes.Public;
        descriptor.ConsentType = client.FirstParty ? ConsentTypes.Implicit : ConsentTypes.Explicit;

        descriptor.Permissions.Clear();
        descriptor.Requirements.Clear();
        descriptor.RedirectUris.Clear();
        descriptor.PostLogoutRedirectUris.Clear();
        descriptor.Settings.Clear();

        // Confidential clients may introspect and revoke; public clients may revoke their own tokens.
        descriptor.Permissions.Add(Permissions.Endpoints.Revocation);
        if (confidential)
        {
            descriptor.Permissions.Add(Permissions.Endpoints.Introspection);
        }

        if (client.Grants.Count > 0)
        {
            descriptor.Permissions.Add(Permissions.Endpoints.Token);
        }

        foreach (var grant in client.Grants)
        {
            descriptor.Permissions.Add(Permissions.Prefixes.GrantType + grant);
        }

        if (client.Grants.Contains(GrantTypes.AuthorizationCode))
        {
            descriptor.Permissions.UnionWith([Permissions.Endpoints.Authorization, Permissions.Endpoints.EndSession, Permissions.ResponseTypes.Code]);
            descriptor.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
        }

        foreach (var scope in client.Scopes.Where(scope => scope != Scopes.OpenId))
        {
            descriptor.Permissions.Add(Permissions.Prefixes.Scope + scope);
        }

        descriptor.RedirectUris.UnionWith(client.RedirectUris);
        descriptor.PostLogoutRedirectUris.UnionWith(client.PostLogoutRedirectUris);
    }
}
