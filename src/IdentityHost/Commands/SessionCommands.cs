using IdentityHost.Audit;
using IdentityHost.RefreshTokens;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.Commands;

/// <summary>
/// <c>-- sessions list --user NAME</c>: the user's live token families (a valid authorization with a valid, unexpired
/// refresh token), one per device: family id, client, created, last refreshed, and the IP and user agent of the sign-in
/// that created it (from its <c>token_family.created</c> audit event). <c>-- sessions revoke FAMILY-ID</c>: signs one
/// device out (<see cref="TokenFamilies.RevokeAsync"/>, reason <c>admin</c>).
/// </summary>
public static class SessionCommands
{
    public const string Usage = "Usage: IdentityHost sessions list --user <name|id> | IdentityHost sessions revoke <family-id>";

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        switch (args)
        {
            case ["list", "--user", var user]:
                return await ListAsync(services, user, output, error);
            case ["revoke", var family]:
                return await RevokeAsync(services, family, output, error);
            default:
                await error.WriteLineAsync(Usage);
                return 2;
        }
    }

    private static async Task<int> ListAsync(IServiceProvider services, string nameOrId, TextWriter output, TextWriter error)
    {
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        if ((await users.FindByNameAsync(nameOrId) ?? await users.FindByIdAsync(nameOrId)) is not { } user)
        {
            await error.WriteLineAsync($"No user named or with id '{nameOrId}'.");
            return 2;
        }

        var authorizations = services.GetRequiredService<IOpenIddictAuthorizationManager>();
        var tokens = services.GetRequiredService<IOpenIddictTokenManager>();
        var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();

        // Listed first, read after: PostgreSQL cannot run other statements on the connection while a listing streams.
        var valid = new List<(string Id, string? ApplicationId, DateTimeOffset? Created)>();
        await foreach (var authorization in authorizations.FindBySubjectAsync(user.Id))
        {
            if (await authorizations.HasStatusAsync(authorization, Statuses.Valid))
            {
                valid.Add((await authorizations.GetIdAsync(authorization) ?? "", await authorizations.GetApplicationIdAsync(authorization),
                    await authorizations.GetCreationDateAsync(authorization)));
            }
        }

        var sessions = new List<(string Id, string? Client, DateTimeOffset? Created, DateTimeOffset? Refreshed)>();
        foreach (var (id, applicationId, created) in valid)
        {
            var refreshTokens = new List<object>();
            await foreach (var token in tokens.FindByAuthorizationIdAsync(id))
            {
                if (await tokens.HasTypeAsync(token, TokenTypeIdentifiers.RefreshToken))
                {
                    refreshTokens.Add(token);
                }
            }

            DateTimeOffset? latest = null;
            var live = false;
            foreach (var token in refreshTokens)
            {
                latest = Max(latest, await tokens.GetCreationDateAsync(token));
                if (await tokens.HasStatusAsync(token, Statuses.Valid))
                {
                    var expires = await tokens.GetExpirationDateAsync(token);
                    live |= expires is null || expires > now;
                }
            }

            if (live)
            {
                var application = applicationId is null ? null : await applications.FindByIdAsync(applicationId);
                sessions.Add((id, application is null ? null : await applications.GetClientIdAsync(application), created, latest));
            }
        }

        var ids = sessions.Select(session => session.Id).ToList();
        var origins = (await services.GetRequiredService<ApplicationDbContext>().AuditEvents.AsNoTracking()
                .Where(row => row.FamilyId != null && ids.Contains(row.FamilyId) && row.Type == AuditEventTypes.FamilyCreated.Name)
                .Select(row => new { row.FamilyId, row.Ip, row.UserAgent }).ToListAsync())
            .DistinctBy(row => row.FamilyId).ToDictionary(row => row.FamilyId!, StringComparer.Ordinal);

        if (sessions.Count == 0)
        {
            await output.WriteLineAsync($"{user.UserName} ({user.Id}) has no live sessions.");
            return 0;
        }

        await Table.WriteAsync(output, ["FAMILY", "CLIENT", "CREATED", "LAST REFRESHED", "IP", "USER AGENT"],
            sessions.OrderBy(session => session.Created).Select(session => new[]
            {
                session.Id, session.Client, Format(session.Created), Format(session.Refreshed),
                origins.GetValueOrDefault(session.Id)?.Ip, origins.GetValueOrDefault(session.Id)?.UserAgent,
            }));
        return 0;
    }

    private static async Task<int> RevokeAsync(IServiceProvider services, string familyId, TextWriter output, TextWriter error)
    {
        var authorizations = services.GetRequiredService<IOpenIddictAuthorizationManager>();
        if (await authorizations.FindByIdAsync(familyId) is not { } authorization)
        {
            await error.WriteLineAsync($"No token family with id '{familyId}'.");
            return 2;
        }

        var subject = await authorizations.GetSubjectAsync(authorization);
        var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
        var applicationId = await authorizations.GetApplicationIdAsync(authorization);
        var application = applicationId is null ? null : await applications.FindByIdAsync(applicationId);
        var clientId = application is null ? null : await applications.GetClientIdAsync(application);

        var revoked = await services.GetRequiredService<TokenFamilies>().RevokeAsync(familyId, FamilyRevocationReason.Administrator, clientId, subject);
        await output.WriteLineAsync($"Revoked token family {familyId} (client {clientId ?? "-"}, subject {subject ?? "-"}): {revoked} token(s) revoked.");
        return 0;
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static string? Format(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
