using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHost.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHost.Tests.SignIn;

/// <summary>
/// An outsider cannot tell an unknown user, a wrong password and a locked account given a wrong password apart: not by
/// the answer (byte for byte), and not by its cost: each costs one password-hash verification, made with the
/// configured hasher and against a hash of the same format (algorithm, iteration count). Counted through a decorating
/// hasher; speed itself is for the benchmarks.
/// </summary>
public sealed partial class EnumerationTests(EnumerationTests.Host host) : IClassFixture<EnumerationTests.Host>
{
    private readonly IdentityHostFactory factory = host.Factory;

    [Fact]
    public async Task TokenEndpoint_UnknownUser_WrongPassword_LockedAccount_AnswerAlike()
    {
        var http = factory.CreateClient();
        var locked = await LockedOutUserAsync(form => PostPasswordAsync(http, form.User, form.Password));

        var answers = new[]
        {
            await MeasureAsync(() => PostPasswordAsync(http, "nobody-" + Guid.NewGuid().ToString("N"), "wrong")),
            await MeasureAsync(async () => await PostPasswordAsync(http, await factory.CreateUserAsync(), "wrong")),
            await MeasureAsync(() => PostPasswordAsync(http, locked.User, "wrong")),
            locked.LockingAttempt,
        };

        AssertAlike(answers);
        var body = JsonDocument.Parse(answers[0].Answer["400 ".Length..]).RootElement;
        Assert.Equal("invalid_grant", body.GetProperty("error").GetString());
        Assert.Equal("The username or password is incorrect.", body.GetProperty("error_description").GetString());
    }

    [Fact]
    public async Task Facade_UnknownUser_WrongPassword_LockedAccount_AnswerAlike()
    {
        var http = factory.CreateClient();
        var locked = await LockedOutUserAsync(form => PostFacadeAsync(http, form.User, form.Password));

        var answers = new[]
        {
            await MeasureAsync(() => PostFacadeAsync(http, "nobody-" + Guid.NewGuid().ToString("N"), "wrong")),
            await MeasureAsync(async () => await PostFacadeAsync(http, await factory.CreateUserAsync(), "wrong")),
            await MeasureAsync(() => PostFacadeAsync(http, locked.User, "wrong")),
            locked.LockingAttempt,
        };

        AssertAlike(answers);
        Assert.StartsWith("400 {", answers[0].Answer);
    }

    [Fact]
    public async Task LoginPage_UnknownUser_WrongPassword_LockedAccount_ShowTheSameMessage()
    {
        var locked = await LockedOutUserAsync(form => SubmitLoginAsync(form.User, form.Password));

        var answers = new[]
        {
            await MeasureAsync(() => SubmitLoginAsync("nobody-" + Guid.NewGuid().ToString("N"), "wrong")),
            await MeasureAsync(async () => await SubmitLoginAsync(await factory.CreateUserAsync(), "wrong")),
            await MeasureAsync(() => SubmitLoginAsync(locked.User, "wrong")),
            locked.LockingAttempt,
        };

        AssertAlike(answers);
        Assert.Equal("200 The user name or password is incorrect.", answers[0].Answer);
    }

    [Fact]
    public async Task LockedAccount_RightPassword_SaysLocked_WrongPasswordsDoNotExtendTheLockout()
    {
        var http = factory.CreateClient();
        var locked = await LockedOutUserAsync(form => PostPasswordAsync(http, form.User, form.Password));
        var lockedUntil = await LockoutEndAsync(locked.User);

        for (var attempt = 0; attempt < 6; attempt++)
        {
            await PostPasswordAsync(http, locked.User, "wrong");
        }

        Assert.Equal(lockedUntil, await LockoutEndAsync(locked.User));
        Assert.Contains("locked", await PostPasswordAsync(http, locked.User, TokenClient.Password));
        Assert.Contains("locked", await SubmitLoginAsync(locked.User, TokenClient.Password));
    }

    /// <summary>A fresh user locked out by five wrong passwords; the fifth attempt's answer and cost.</summary>
    private async Task<(string User, Measured LockingAttempt)> LockedOutUserAsync(Func<(string User, string Password), Task<string>> attempt)
    {
        var user = await factory.CreateUserAsync();
        for (var i = 0; i < 4; i++)
        {
            await attempt((user, "wrong"));
        }

        var locking = await MeasureAsync(() => attempt((user, "wrong")));
        Assert.Contains("locked", await attempt((user, TokenClient.Password)));
        return (user, locking);
    }

    private async Task<Measured> MeasureAsync(Func<Task<string>> send)
    {
        var before = host.Hasher.Verifications;
        var answer = await send();
        var verified = host.Hasher.Verifications.Skip(before.Count).ToList();
        return new Measured(answer, verified.Count, verified.Select(CostHeader).Distinct().SingleOrDefault());
    }

    private static void AssertAlike(Measured[] answers)
    {
        Assert.All(answers, answer => Assert.Equal(answers[0].Answer, answer.Answer));
        Assert.All(answers, answer => Assert.Equal(1, answer.HashVerifications));
        Assert.All(answers, answer => Assert.Equal(answers[0].HashCost, answer.HashCost));
    }

    /// <summary>Identity's v3 hash format: marker, PRF, iteration count, salt length (13 bytes) set the cost.</summary>
    private static string CostHeader(string hashedPassword) => Convert.ToHexString(Convert.FromBase64String(hashedPassword)[..13]);

    private static async Task<string> PostPasswordAsync(HttpClient http, string user, string password)
    {
        using var response = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = "web",
            ["username"] = user,
            ["password"] = password,
            ["scope"] = "offline_access api",
        }));
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    private static async Task<string> PostFacadeAsync(HttpClient http, string user, string password)
    {
        using var response = await http.PostAsJsonAsync("api/token", new { username = user, password });
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    /// <summary>The login page's status and message (the page also echoes the user name, which differs by design).</summary>
    private async Task<string> SubmitLoginAsync(string user, string password)
    {
        using var response = await new BrowserSession(factory).SubmitLoginAsync("/account/login", user, password);
        var message = ErrorMessage().Match(await response.Content.ReadAsStringAsync());
        return $"{(int)response.StatusCode} {(message.Success ? WebUtility.HtmlDecode(message.Groups[1].Value) : "")}";
    }

    private async Task<DateTimeOffset?> LockoutEndAsync(string user)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().FindByNameAsync(user))!.LockoutEnd;
    }

    [GeneratedRegex("""id="error">([^<]*)<""")]
    private static partial Regex ErrorMessage();

    private sealed record Measured(string Answer, int HashVerifications, string? HashCost);

    /// <summary>IdentityHost with every password-hash verification recorded.</summary>
    public sealed class Host : IDisposable
    {
        public Host() => Factory = new IdentityHostFactory
        {
            ServiceOverrides = services => services.AddSingleton<IPasswordHasher<ApplicationUser>>(Hasher),
        };

        public CountingPasswordHasher Hasher { get; } = new();

        public IdentityHostFactory Factory { get; }

        public void Dispose() => Factory.Dispose();
    }

    /// <summary>Identity's own hasher, recording the stored hash of every verification (in order).</summary>
    public sealed class CountingPasswordHasher : IPasswordHasher<ApplicationUser>
    {
        private readonly PasswordHasher<ApplicationUser> inner = new();
        private readonly List<string> verifications = [];

        public IReadOnlyList<string> Verifications
        {
            get
            {
                lock (verifications)
                {
                    return [.. verifications];
                }
            }
        }

        public string HashPassword(ApplicationUser user, string password) => inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(ApplicationUser user, string hashedPassword, string providedPassword)
        {
            lock (verifications)
            {
                verifications.Add(hashedPassword);
            }

            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}
