using System.Net;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace IdentityHost.Tests.Abuse;

/// <summary>
/// Thousands of seeded random malformed requests across every endpoint (see <see cref="RequestFuzzer"/>): none may get
/// a 5xx, and the server must still issue and refresh tokens afterwards. The seed is printed; set
/// <c>IDENTITYHOST_FUZZ_SEED</c> (and <c>IDENTITYHOST_FUZZ_COUNT</c>) to replay a run or to explore new ones.
/// </summary>
public sealed partial class FuzzTests(ITestOutputHelper output)
{
    private const int DefaultSeed = 20261127;
    private const int DefaultCount = 2_500;

    [Fact]
    public async Task RandomMalformedRequests_NeverGet5xx_AndTheServerStaysHealthy()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("IDENTITYHOST_FUZZ_SEED"), out var chosen) ? chosen : DefaultSeed;
        var count = int.TryParse(Environment.GetEnvironmentVariable("IDENTITYHOST_FUZZ_COUNT"), out var requested) ? requested : DefaultCount;
        output.WriteLine($"Fuzz seed {seed}, {count} requests (replay: IDENTITYHOST_FUZZ_SEED={seed})");

        using var factory = new IdentityHostFactory
        {
            Settings = { ["IdentityHost:RateLimits:Enabled"] = "false", ["IdentityHost:ForwardedHeaders:Enabled"] = "true" },
        };
        await factory.CreateUserAsync("fuzz-user");
        await factory.CreateUserAsync("fuzz-session");
        var session = new BrowserSession(factory);
        var tokens = await IssueTokensAsync(factory, session);
        var anonymous = factory.CreateClient();
        var fuzzer = new RequestFuzzer(new FuzzValues(new Random(seed)), tokens);

        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        for (var i = 0; i < count; i++)
        {
            if (i % 100 == 0)
            {
                await session.AuthorizeAsync("fuzz-session"); // signs in again if a fuzzed end-session request signed it out
            }

            var fuzzCase = fuzzer.Next();
            using var request = fuzzCase.ToRequest();
            try
            {
                using var response = await (fuzzCase.SignedIn ? session.Http : anonymous).SendAsync(request);
                var status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                if (status >= 500)
                {
                    var body = await response.Content.ReadAsStringAsync();
                    failures.Add($"#{i} → {status}\n{fuzzCase}\n  response: {(body.Length > 1_500 ? body[..1_500] : body)}");
                }
            }
            catch (Exception ex) when (ex is not XunitException)
            {
                failures.Add($"#{i} → {ex.GetType().Name}: {ex.Message}\n{fuzzCase}");
            }
        }

        output.WriteLine("Statuses: " + string.Join(", ", statuses.Select(entry => $"{entry.Key}×{entry.Value}")));
        Assert.True(failures.Count == 0, $"Seed {seed}: {failures.Count} of {count} requests failed with a 5xx or an exception. First ones:\n\n" +
            string.Join("\n\n", failures.Take(10)));

        var client = factory.CreateTokenClient();
        var signedIn = await client.PasswordAsync();
        Assert.Equal(HttpStatusCode.OK, signedIn.Status);
        Assert.Equal(HttpStatusCode.OK, (await client.RefreshAsync(signedIn.RefreshToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);
    }

    private static async Task<FuzzTokens> IssueTokensAsync(IdentityHostFactory factory, BrowserSession session)
    {
        var issued = await factory.CreateTokenClient().PasswordAsync("fuzz-user", scope: "openid offline_access api");
        await session.AuthorizeAsync("fuzz-session");
        var page = await session.Http.GetStringAsync("/account/login");
        var antiforgery = AntiforgeryToken().Match(page).Groups[1].Value;
        return new FuzzTokens(issued.AccessToken, issued.RefreshToken, issued["id_token"]!, antiforgery);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
