namespace IdentityHost.Tests.Hosting;

/// <summary>
/// Bad configuration and broken key folders stop start-up with a message naming the culprit: one line per problem on
/// standard error (and in the log), never a stack trace. These run the real server process: start-up failures end it
/// with exit code 1.
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
    [InlineData("IdentityHost__RateLimits__Login__PerUser__PermitLimit", "-1", "IdentityHost:RateLimits:Login:PerUser:PermitLimit must be positive")]
    [InlineData("IdentityHost__RateLimits__Token__PerPublicClientAndIp__Window", "2.00:00:00", "IdentityHost:RateLimits:Token:PerPublicClientAndIp:Window must be between")]
    [InlineData("IdentityHost__LogFormat", "xml", "IdentityHost:LogFormat is 'xml'; allowed values are Text and Json")]
    [InlineData("IdentityHost__ForwardedHeaders__KnownProxies__0", "not-an-ip", "IdentityHost:ForwardedHeaders:KnownProxies contains 'not-an-ip'")]
    [InlineData("ConnectionStrings__IdentityHost", "Nonsense Keyword=1", "ConnectionStrings:IdentityHost")]
    [InlineData("IdentityHost__Dpop__ProofLifetime", "00:00:00", "IdentityHost:Dpop:ProofLifetime must be positive")]
    [InlineData("IdentityHost__Dpop__NonceLifetime", "02:00:00", "IdentityHost:Dpop:NonceLifetime must be positive and at most 01:00:00")]
    public async Task BadSetting_StopsStartupNamingTheKey(string variable, string value, string expectedMessage)
    {
        using var folder = new TestFolder();

        var (exitCode, output, errors) = await RunServerAsync(folder, new() { [variable] = value });

        Assert.Equal(1, exitCode);
        Assert.Contains(expectedMessage, output);
        Assert.DoesNotContain("Now listening on", output);
        AssertOneLinePerProblem(output, errors, expectedMessage);
    }

    [Fact]
    public async Task SlidingLifetimeOverAbsolute_IsOneLineNamingTheKeyAndTheValues_WithoutStackTrace()
    {
        using var folder = new TestFolder();

        var (exitCode, output, errors) = await RunServerAsync(folder, new() { ["IdentityHost__RefreshTokens__SlidingLifetime"] = "60.00:00:00" });

        Assert.NotEqual(0, exitCode);
        Assert.Equal(["IdentityHost:RefreshTokens:SlidingLifetime must not exceed AbsoluteLifetime (60.00:00:00 > 30.00:00:00)."], Lines(errors));
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Exception", output);
    }

    [Fact]
    public async Task KeyFileReadableByOthers_IsOneLineNamingTheFile()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix permissions only
        }

        using var folder = new TestFolder();
        using (var first = new IdentityHostFactory { Folder = folder })
        {
            Assert.Null(first.TryStart());
        }

        var encryptionKey = Directory.GetFiles(folder.KeysPath, "encryption-*").Single();
        File.SetUnixFileMode(encryptionKey, File.GetUnixFileMode(encryptionKey) | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var (exitCode, output, errors) = await RunServerAsync(folder, []);

        Assert.Equal(1, exitCode);
        var line = Assert.Single(Lines(errors));
        Assert.Contains(encryptionKey, line);
        Assert.Contains("chmod 600", line);
        Assert.DoesNotContain("   at ", output);
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

        var (exitCode, output, _) = await RunServerAsync(folder, []);

        Assert.Equal(1, exitCode);
        Assert.Contains("no encryption key", output);
        Assert.DoesNotContain("   at ", output);
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

        var (exitCode, output, _) = await RunServerAsync(folder, []);

        Assert.Equal(1, exitCode);
        Assert.Contains(Path.GetFileName(signingKey), output);
        Assert.DoesNotContain("   at ", output);
    }

    /// <summary>Each problem once on standard error, on one line of its own; no stack trace anywhere.</summary>
    private static void AssertOneLinePerProblem(string output, string errors, string expectedMessage)
    {
        Assert.Single(Lines(errors), line => line.Contains(expectedMessage, StringComparison.Ordinal));
        Assert.Equal(Lines(errors).Length, Lines(errors).Distinct().Count());
        Assert.DoesNotContain("   at ", output);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Task<(int? ExitCode, string Output, string Errors)> RunServerAsync(TestFolder folder, Dictionary<string, string?> environment) =>
        ServerProcess.RunIdentityHostToExitAsync(folder, environment);
}
