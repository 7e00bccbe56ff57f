using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static IdentityHost.Tests.Abuse.RateLimitedHost;

namespace IdentityHost.Tests.Abuse;

/// <summary>
/// Every password sign-in — the login page, the password grant, the JSON facade — spends one budget, per IP and per
/// user name (limits: <see cref="RateLimitedHost"/>: 2 per IP, 3 per user name).
/// </summary>
public sealed class SignInRateLimitTests
{
    [Fact]
    public async Task PasswordGrant_GetsTheLoginBudgetPerIp_NotTheTokenEndpointOne()
    {
        using var factory = Create(overrides: new() { ["IdentityHost:RateLimits:Token:PerIp:PermitLimit"] = "100" });
        var guesser = From(factory, NewIp());
        Assert.Equal("invalid_grant", (await guesser.PasswordAsync(username: "alice", password: "guess-1")).Error);
        Assert.Equal("invalid_grant", (await guesser.PasswordAsync(username: "bob", password: "guess-2")).Error);

        AssertRateLimited(await guesser.PasswordAsync(username: "carol", password: "guess-3"));

        // Other grants from the same address, and sign-ins from other addresses, are not affected.
        Assert.Equal(HttpStatusCode.OK, (await guesser.ClientCredentialsAsync()).Status);
        Assert.Equal(HttpStatusCode.OK, (await From(factory, NewIp()).PasswordAsync(username: "bob")).Status);
    }

    [Fact]
    public async Task OneUserName_FromManyAddresses_GetsTheBudgetPerUser_WhateverItsCaseOrSpacing()
    {
        using var factory = Create();
        var user = await factory.CreateUserAsync();
        string[] spellings = [user, user.ToUpperInvariant(), $"  {user} "];
        foreach (var spelling in spellings)
        {
            Assert.Equal("invalid_grant", (await From(factory, NewIp()).PasswordAsync(username: spelling, password: "guess")).Error);
        }

        var fresh = From(factory, NewIp());
        AssertRateLimited(await fresh.PasswordAsync(username: user));
        Assert.Equal(HttpStatusCode.OK, (await fresh.PasswordAsync(username: "bob")).Status);
    }

    [Fact]
    public async Task UnknownUserNames_AreLimitedLikeRealOnes()
    {
        using var factory = Create();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("invalid_grant", (await From(factory, NewIp()).PasswordAsync(username: "nobody", password: "guess")).Error);
        }

        AssertRateLimited(await From(factory, NewIp()).PasswordAsync(username: "nobody", password: "guess"));
    }

    [Fact]
    public async Task Facade_TokenEndpoint_AndLoginPage_ShareOneBudget()
    {
        using var factory = Create();
        var ip = NewIp();
        using (var facade = await From(factory, ip).Http.PostAsJsonAsync("api/token", new { username = "alice", password = "guess-1" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, facade.StatusCode);
        }

        Assert.Equal("invalid_grant", (await From(factory, ip).PasswordAsync(username: "bob", password: "guess-2")).Error);

        using var login = await Browser(factory, ip).SubmitLoginAsync("/account/login", "carol", "guess-3");
        AssertRateLimited(login.StatusCode, login.Headers.RetryAfter?.Delta, login.Headers.CacheControl?.NoStore);
        Assert.StartsWith("Too many sign-in attempts.", await login.Content.ReadAsStringAsync());

        using var again = await From(factory, ip).Http.PostAsJsonAsync("api/token", new { username = "dave", password = "guess-4" });
        AssertRateLimited(again.StatusCode, again.Headers.RetryAfter?.Delta, again.Headers.CacheControl?.NoStore);
        Assert.Equal("slow_down", JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task LoginPost_OverPerIpLimit_Returns429_GetAndOtherIpsUnaffected()
    {
        using var factory = Create();
        var browser = Browser(factory, NewIp());
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await browser.SubmitLoginAsync("/account/login", "alice", "wrong-password")).StatusCode);
        }

        using var rejected = await browser.SubmitLoginAsync("/account/login", "alice", "wrong-password");
        AssertRateLimited(rejected.StatusCode, rejected.Headers.RetryAfter?.Delta, rejected.Headers.CacheControl?.NoStore);
        Assert.Contains("Too many sign-in attempts", await rejected.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, (await browser.Http.GetAsync("/account/login")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await Browser(factory, NewIp()).SubmitLoginAsync("/account/login", "bob", TokenClient.Password)).StatusCode);
    }
}
