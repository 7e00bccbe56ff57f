using IdentityHost.Accounts;

namespace IdentityHost.Audit;

/// <summary>Where a password sign-in came in (the <c>path</c> attribute of <c>identityhost.sign_ins</c>).</summary>
public enum SignInPath
{
    PasswordGrant,
    JsonFacade,
    LoginPage,
}

/// <summary>Sign-ins, administrators' actions on users, signing keys and clients.</summary>
public sealed partial class SecurityEvents
{
    /// <summary>
    /// A password sign-in finished; queued. <paramref name="subject"/> is the user's id whenever the user exists, even
    /// for a wrong password (the answer to the caller stays the same). The name typed for an unknown user is not
    /// stored anywhere: people type their password into the user-name field, and a copy of the database must not
    /// hold it; the row's time, IP and user agent show a credential-stuffing run. The password is never given here.
    /// </summary>
    public void SignIn(SignInPath path, PasswordCheck result, string? subject, string? clientId, string? sessionId = null)
    {
        if (path == SignInPath.PasswordGrant && IsFacadeRequest())
        {
            path = SignInPath.JsonFacade;
        }

        var succeeded = result == PasswordCheck.Succeeded;
        var type = succeeded ? AuditEventTypes.SignInSucceeded : AuditEventTypes.SignInFailed;
        var pathTag = path switch { SignInPath.JsonFacade => "json_facade", SignInPath.LoginPage => "login_page", _ => "password_grant" };
        var reason = result switch
        {
            PasswordCheck.Succeeded => null,
            PasswordCheck.LockedOut => "locked_out",
            PasswordCheck.LockedByAdministrator => "locked_by_administrator",
            PasswordCheck.NotAllowed => "not_allowed",
            _ => subject is null ? "unknown_user" : "invalid_credentials",
        };
        logger.LogInformation(type, "Audit {AuditType}: sign-in of subject {Subject} through {SignInPath} (client {ClientId}){Reason}",
            type.Name, subject ?? "(unknown user)", pathTag, clientId, reason is null ? "" : ": " + reason);
        if (telemetry.SignIns.Enabled)
        {
            telemetry.SignIns.Add(1,
                new KeyValuePair<string, object?>("path", pathTag),
                new KeyValuePair<string, object?>("outcome", succeeded ? "success" : "failure"));
        }

        var detail = $"path={pathTag}" + (reason is null ? "" : $" reason={reason}");
        trail.Enqueue(Row(type, clientId, subject, null, sessionId, detail));
    }

    /// <summary>An administrator locked a user (<c>-- users lock</c>); written at once.</summary>
    public Task UserLockedAsync(string subject) => AdministratorActionAsync(AuditEventTypes.UserLocked, subject);

    /// <summary>An administrator unlocked a user (<c>-- users unlock</c>); written at once.</summary>
    public Task UserUnlockedAsync(string subject) => AdministratorActionAsync(AuditEventTypes.UserUnlocked, subject);

    /// <summary>A new signing key was created (<c>-- keys rotate</c>); written at once.</summary>
    public async Task SigningKeyRotatedAsync(string keyId)
    {
        logger.LogInformation(AuditEventTypes.SigningKeyRotated, "Audit {AuditType}: new signing key {KeyId}", AuditEventTypes.SigningKeyRotated.Name, keyId);
        await trail.WriteNowAsync(Row(AuditEventTypes.SigningKeyRotated, null, null, null, null, $"kid={keyId}"));
    }

    /// <summary>
    /// A client's stored configuration was created, changed or removed by the synchroniser (<see cref="AuditEventTypes.ClientCreated"/>,
    /// <see cref="AuditEventTypes.ClientChanged"/>, <see cref="AuditEventTypes.ClientRemoved"/>); written at once.
    /// <paramref name="detail"/> names what changed, never a secret's value.
    /// </summary>
    public async Task ClientConfigurationAsync(EventId type, string clientId, string? detail = null)
    {
        logger.Log(type == AuditEventTypes.ClientRemoved ? LogLevel.Warning : LogLevel.Information, type,
            "Audit {AuditType}: client {ClientId} {Detail}", type.Name, clientId, detail);
        await trail.WriteNowAsync(Row(type, clientId, null, null, null, detail));
    }

    private async Task AdministratorActionAsync(EventId type, string subject)
    {
        logger.LogInformation(type, "Audit {AuditType}: subject {Subject}", type.Name, subject);
        await trail.WriteNowAsync(Row(type, null, subject, null, null, "by=administrator"));
    }
}
