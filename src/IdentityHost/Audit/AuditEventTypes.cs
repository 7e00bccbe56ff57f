namespace IdentityHost.Audit;

/// <summary>
/// The security events, each with a stable name (the audit row's <c>type</c>, the log event's <c>EventName</c>) and a
/// stable id (the row's <c>event_id</c>, the log event's <c>EventId</c>). Names and ids never change meaning; a new
/// event gets a new id. The table is in docs/audit.md.
/// </summary>
public static class AuditEventTypes
{
    public static readonly EventId SignInSucceeded = new(5001, "sign_in.succeeded");
    public static readonly EventId SignInFailed = new(5002, "sign_in.failed");
    public static readonly EventId FamilyCreated = new(5010, "token_family.created");
    public static readonly EventId RefreshTokenReplayed = new(5011, "refresh_token.replay_detected");
    public static readonly EventId AuthorizationCodeReplayed = new(5012, "authorization_code.replay_detected");
    public static readonly EventId FamilyRevoked = new(5013, "token_family.revoked");
    public static readonly EventId TokenRevoked = new(5014, "token.revoked");
    public static readonly EventId SignedOutEverywhere = new(5015, "user.signed_out_everywhere");
    public static readonly EventId UserLocked = new(5020, "user.locked");
    public static readonly EventId UserUnlocked = new(5021, "user.unlocked");
    public static readonly EventId SigningKeyRotated = new(5030, "signing_key.rotated");
    public static readonly EventId ClientCreated = new(5040, "client.created");
    public static readonly EventId ClientChanged = new(5041, "client.changed");
    public static readonly EventId ClientRemoved = new(5042, "client.removed");
}
