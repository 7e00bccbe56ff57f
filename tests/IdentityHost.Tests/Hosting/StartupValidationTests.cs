namespace IdentityHost.Tests.Hosting;

/// <summary>
/// Bad configuration and broken key folders stop start-up with a message naming the culprit. These run the real
/// server process: start-up failures are logged and end the process with exit code 1.
/// </summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("IdentityHost__AccessTokenLifetime", "not-a-timespan", "IdentityHost:AccessTokenLifetime")]
    [InlineData("IdentityHost__AccessTokenLifetime", "-00:00:05", "IdentityHost:AccessTokenLifetime must be positive")]
    [InlineData("IdentityHost__RefreshTokens__SlidingLifetime", "60.00:00:00", "IdentityHost:RefreshTokens:SlidingLifetime must not exceed AbsoluteLifetime")]
    [InlineData("IdentityHost__AccessTokenLifetime", "20.00:00:00", "IdentityHost:AccessTokenLifetime must be shorter than RefreshTokens:SlidingLifetime")]
    [InlineData("IdentityHost__RefreshTokens__ReuseLeeway", "-00:00:01", "IdentityHost:RefreshTokens:ReuseLeeway must not be negative")]
    [InlineData("IdentityHost__Issuer", "ftp://example.com/", "IdentityHost:Issuer")]
    [InlineData("IdentityHost__Clients__postman__FirstParty", "false", "IdentityHost:Clients:postman:Grants contains 'password'")]
    [InlineData("IdentityHost__Clients__service__Scopes__0", "unknown-scope", "IdentityHost:Clients:service:Scopes contains 'unknown-scope'")]
    [InlineData("Database__Provider", "Oracle", "Database:Provider")]
    [InlineData("IdentityHost__RateLimits__Token__PerClient__PermitLimit", "0", "IdentityHost:RateLimits:Token:PerClient:PermitLimit must be positive")]
    [InlineData("IdentityHost__RateLimits__Login__PerIp__Window", "00:00:00", "IdentityHost:RateLimits:Login:PerIp:Window must be between")]
    [InlineData("IdentityHost__LogFormat", "xml", "IdentityHost:LogFormat is 'xml'; allowed values are Text and Json")]
    [InlineData("IdentityHost__ForwardedHeaders__KnownProxies__0", "not-an-ip", "IdentityHost:ForwardedHeaders:KnownProxies contains 'not-an-ip'")]
    [InlineData("ConnectionStrings__IdentityHost", "Nonsense Keyword=1", "ConnectionStrings:IdentityHost")]
    [InlineData("IdentityHost__Dpop__ProofLifetime", "00:00:00", "IdentityHost:Dpop:ProofLifetime must be positive")]
    [InlineData("IdentityHost__Dpop__NonceLifetime", "02:00:00", "IdentityHost:Dpop:NonceLifetime must be positive and at most 01:00:00")]
    public async Task BadSetting_StopsStartupNamingTheKey(string variable, string value, string expectedMessage)
    {
        using var folder = new TestFolder();

        var (exitCode, output) = await RunServerAsync(folder, new() { [variable] = value });

        Assert.Equal(1, exitCode);
        Assert.Contains(expectedMessage, output);
        Assert.DoesNotContain("Now listening on", output);
    }

    [Fact]
    public async Task MissingEncryptionKeyNextToSigningKey_StopsStartup()
    {
        using var folder = new TestFolder();
        using (var first = new IdentityHostFactory { Folder = folder })
        {
            Assert.Null(first.TryStart());
        }

        File.Delete(Directory.GetFiles(folder.KeysPath, "encryption-*").Single());

        var (exitCode, output) = await RunServerAsync(folder, []);

        Assert.Equal(1, exitCode);
        Assert.Contains("no encryption key", output);
        Assert.Empty(Directory.GetFiles(folder.KeysPath, "encryption-*"));
    }

    [Fact]
    public async Task CorruptSigningKey_StopsStartupNamingTheFile()
    {
        using var folder = new TestFolder();
        using (var first = new IdentityHostFactory { Folder = folder })
        {
            Assert.Null(first.TryStart());
        }

        var signingKey = Directory.GetFiles(folder.KeysPath, "signing-*").Single();
        await File.WriteAllTextAsync(signingKey, "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n");

        var (exitCode, output) = await RunServerAsync(folder, []);

        Assert.Equal(1, exitCode);
        Assert.Contains(Path.GetFileName(signingKey), output);
    }

    private static async Task<(int? ExitCode, string Output)> RunServerAsync(TestFolder folder, Dictionary<string, string?> environment)
    {
        environment.TryAdd("ConnectionStrings__IdentityHost", $"Data Source={Path.Combine(folder.Path, "identityhost.db")}");
        environment["IdentityHost__KeysPath"] = folder.KeysPath;
        environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        using var server = ServerProcess.Start("IdentityHost", environment);
        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, server.Output);
    }
}
