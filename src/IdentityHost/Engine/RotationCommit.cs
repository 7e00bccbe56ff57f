using IdentityHost.Audit;
using IdentityHost.RefreshTokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Microsoft.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHost.Engine;

/// <summary>
/// Once every token of the response is built and signed (after OpenIddict's <c>GenerateIdentityToken</c>, before
/// anything is returned), commits the request's <see cref="Rotation"/> and turns its outcome into the protocol answer.
/// </summary>
public sealed class RotationCommit(Rotation rotation, SecurityEvents events) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        var isCode = context.Request.IsAuthorizationCodeGrantType() || context.Request.IsDeviceCodeGrantType();
        rotation.NoteAccessToken(context.AccessToken);
        switch (await rotation.CommitAsync(context.ClientId))
        {
            case Rotation.Outcome.Replayed:
                context.Reject(Errors.InvalidGrant, isCode ? RefreshTokenRules.ReplayedCodeDescription : RefreshTokenRules.ReplayedDescription);
                return;

            case Rotation.Outcome.Unavailable:
                // Answered 503 with Retry-After (RetriableErrorStatus): the same token still works.
                context.Reject(Errors.TemporarilyUnavailable,
                    "The token could not be issued because the database is temporarily unavailable. Nothing was changed: retry the same request shortly.");
                return;

            // A password sign-in's family was created by OpenIddict for this response (a code's, at /connect/authorize).
            case Rotation.Outcome.Committed when context.Request.IsPasswordGrantType() && context.Principal?.GetAuthorizationId() is { } family:
                events.FamilyCreated(family, context.ClientId, context.Principal.GetClaim(Claims.Subject));
                return;
        }
    }
}
