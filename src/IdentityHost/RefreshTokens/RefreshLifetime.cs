namespace IdentityHost.RefreshTokens;

/// <summary>
/// How long a family's next refresh token lives: the sliding window (<c>SlidingLifetime</c>: each rotation extends
/// it), never past the family's absolute cap (<c>AbsoluteLifetime</c>, counted from the original sign-in), as
/// Duende's <c>AbsoluteLifetime</c>/<c>SlidingLifetime</c> do. Both come from the client's settings or the server's.
/// </summary>
public static class RefreshLifetime
{
    /// <summary>The lifetime of a refresh token issued at <paramref name="now"/>; null once the family is past its cap.</summary>
    public static TimeSpan? Next(DateTimeOffset familyCreated, DateTimeOffset now, TimeSpan sliding, TimeSpan absolute)
    {
        var remaining = familyCreated + absolute - now;
        if (remaining <= TimeSpan.Zero)
        {
            return null;
        }

        return remaining < sliding ? remaining : sliding;
    }
}
