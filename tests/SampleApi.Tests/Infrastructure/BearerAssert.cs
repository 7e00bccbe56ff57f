using System.Net;

namespace SampleApi.Tests.Infrastructure;

public static class BearerAssert
{
    /// <summary>A 401 with <c>WWW-Authenticate: Bearer error="invalid_token", error_description="…"</c> containing <paramref name="descriptionPart"/>.</summary>
    public static void InvalidToken(HttpResponseMessage response, string descriptionPart)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.Single().ToString();
        Assert.StartsWith("Bearer error=\"invalid_token\", error_description=\"", challenge);
        Assert.Contains(descriptionPart, challenge);
    }
}
