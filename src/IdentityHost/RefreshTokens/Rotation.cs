using IdentityHost.Tokens;
using System.Data.Common;
using System.Security.Claims;
using IdentityHost.Audit;
using IdentityHost.Storage;
using OpenIddict.Abstractions;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHost.RefreshTokens;

/// <summary>
/// One rotation: the presented refresh token (or authorization code) is spent and its successors are stored in
/// <b>one transaction, opened after every new token is built and signed</b>. Exactly one of several requests racing
/// with the same token wins: spending it is an UPDATE guarded by the row's concurrency token and status, so every other
/// request finds the row changed. Either the presented token is spent <i>and</i> its successors exist, or nothing
/// changed and the client can retry with the same token (a crash, a failed write).
/// <list type="number">
/// <item>A lost race is a replay (RFC 9700 §4.14.2; RFC 6749 §4.1.2 for codes): the transaction is rolled back and the
/// whole family is revoked, the winner's new tokens included.</item>
/// <item>A database failure (timeout, deadlock, I/O) is no replay: the transaction is rolled back, nothing is revoked,
/// and the client is told to retry (<see cref="Outcome.Unavailable"/>) with the same, still valid token.</item>
/// </list>
/// One instance per request. The engine adapters feed it (<see cref="Engine.TokenRedemption"/> names the token this
/// sign-in spends, <see cref="Engine.TokenEntryWriter"/> hands over the new rows) and <see cref="Engine.RotationCommit"/>
/// commits it.
/// </summary>
public sealed class Rotation(ApplicationDbContext db, IOpenIddictTokenManager tokens, TokenFamilies families, TimeProvider time, ILogger<Rotation> logger, SecurityEvents events)
{
    public enum Outcome
    {
        /// <summary>Nothing to write, or written and committed.</summary>
        Committed,

        /// <summary>Another request spent the token first: a replay; the family is revoked.</summary>
        Replayed,

        /// <summary>The database failed; nothing changed, the presented token is still valid: retry.</summary>
        Unavailable,
    }

    private readonly Dictionary<string, Token> created = new(StringComparer.Ordinal);
    private (Token Row, ClaimsPrincipal Principal)? spent;

    /// <summary>The presented token this sign-in spends at <see cref="CommitAsync"/>.</summary>
    public void Spend(Token row, ClaimsPrincipal principal) => spent = (row, principal);

    /// <summary>A new token's row, built in memory with its id chosen up front (written at <see cref="CommitAsync"/>).</summary>
    public void Add(Token row) => created.Add(row.Id!, row);

    /// <summary>
    /// The response's access token has no row of its own (<see cref="AccessTokenRevocations"/>): its <c>jti</c> and
    /// expiry go onto the row of the refresh token issued with it, where the reuse leeway finds them.
    /// </summary>
    public void NoteAccessToken(string? accessToken)
    {
        foreach (var row in created.Values)
        {
            if (row.Type == TokenTypeIdentifiers.RefreshToken)
            {
                row.Properties = AccessTokenRevocations.NoteSibling(row.Properties, accessToken);
            }
        }
    }

    /// <summary>The row <see cref="Add"/> was given for <paramref name="id"/>, to complete it with its payload.</summary>
    public Token? Find(string? id) => id is not null && created.TryGetValue(id, out var row) ? row : null;

    public async Task<Outcome> CommitAsync(string? clientId)
    {
        if (spent is null && created.Count == 0)
        {
            return Outcome.Committed;
        }

        using var activity = Telemetry.IdentityHostTelemetry.ActivitySource.StartActivity("identityhost.rotation");
        try
        {
            if (!await WriteAsync())
            {
                var principal = spent!.Value.Principal;
                await events.ReplayDetectedAsync(principal, principal.GetAuthorizationId(), clientId);
                await families.RevokeAsync(principal.GetAuthorizationId(), FamilyRevocationReason.Replay, clientId, principal.GetClaim(Claims.Subject));
                return Outcome.Replayed;
            }

            return Outcome.Committed;
        }
        catch (Exception exception) when (exception is DbException or TimeoutException or InvalidOperationException { InnerException: DbException })
        {
            // Rolled back when the transaction is disposed: the presented token was not spent.
            logger.LogError(exception, "Token rotation failed in the database (client {ClientId}); nothing was written and the presented token stays valid", clientId);
            return Outcome.Unavailable;
        }
        finally
        {
            spent = null;
            created.Clear();
        }
    }

    /// <summary>
    /// The transaction: spends the presented token and stores its successors, or (the race's loser) rolls back and
    /// returns false. On SQLite it runs on the shared hot-path connection (<see cref="SqliteHotPath"/>), queued behind
    /// the statement or transaction before it; the token store's statements join it (<see cref="ApplicationDbContext.HotTransaction"/>).
    /// Not when the spent row is one EF Core loaded (the reuse leeway lists the family through EF Core): EF Core writes
    /// it on the context's connection, which must then hold the transaction.
    /// </summary>
    private async Task<bool> WriteAsync()
    {
        if (db.HotPath is { } hotPath && !(spent is { Row: var row } && IsTracked(row)) && hotPath.Enter() is { } connection)
        {
            try
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                db.HotTransaction = transaction;
                if (!await RedeemAndCreateAsync())
                {
                    transaction.Rollback();
                    return false;
                }

                transaction.Commit();
                return true;
            }
            finally
            {
                db.HotTransaction = null;
                hotPath.Exit();
            }
        }

        await using var efTransaction = await db.Database.BeginTransactionAsync();
        if (!await RedeemAndCreateAsync())
        {
            await efTransaction.RollbackAsync();
            return false;
        }

        await efTransaction.CommitAsync();
        return true;
    }

    private bool IsTracked(Token row)
    {
        foreach (var entry in db.ChangeTracker.Entries<Token>())
        {
            if (ReferenceEquals(entry.Entity, row))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<bool> RedeemAndCreateAsync()
    {
        if (spent is { Row: var row } && !await TryRedeemAsync(row))
        {
            return false;
        }

        foreach (var token in created.Values)
        {
            await tokens.CreateAsync(token);
        }

        return true;
    }

    /// <summary>
    /// Marks the token redeemed, unless another request changed its row since it was read (the race's loser). A token
    /// the reuse leeway accepted once more is already redeemed: it keeps its first redemption date, and the write still
    /// claims the row, so of several simultaneous retries only one wins.
    /// </summary>
    private async Task<bool> TryRedeemAsync(Token row)
    {
        if (await tokens.HasStatusAsync(row, Statuses.Valid))
        {
            row.Status = Statuses.Redeemed;
            row.RedemptionDate = time.GetUtcNow().UtcDateTime;
        }
        else if (!await tokens.HasStatusAsync(row, Statuses.Redeemed))
        {
            return false;
        }

        try
        {
            await tokens.UpdateAsync(row);
            return true;
        }
        catch (OpenIddictExceptions.ConcurrencyException)
        {
            return false;
        }
    }
}
