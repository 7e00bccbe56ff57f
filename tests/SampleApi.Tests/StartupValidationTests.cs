namespace SampleApi.Tests;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("SampleApi__ClockSkew", "not-a-timespan", "SampleApi:ClockSkew")]
    [InlineData("SampleApi__ClockSkew", "01:00:00", "SampleApi:ClockSkew must be between")]
    [InlineData("SampleApi__Audience", " ", "SampleApi:Audience must not be empty")]
    [InlineData("SampleApi__Validation", "Magic", "SampleApi:Validation")]
    [InlineData("SampleApi__IntrospectionCacheDuration", "00:05:01", "SampleApi:IntrospectionCacheDuration must be between")]
    [InlineData("SampleApi__IntrospectionCacheDuration", "-00:00:01", "SampleApi:IntrospectionCacheDuration must be between")]
    public async Task BadSetting_StopsStartupNamingTheKey(string variable, string value, string expectedMessage)
    {
        using var server = ServerProcess.Start("SampleApi", new Dictionary<string, string?>
        {
            [variable] = value,
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });

        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        Assert.Contains(expectedMessage, server.Output);
    }

    [Theory]
    [InlineData("SampleApi__ClientSecret", "", "SampleApi:ClientSecret is required")]
    [InlineData("SampleApi__ClientId", " ", "SampleApi:ClientId must not be empty")]
    public async Task BadIntrospectionSetting_StopsStartupNamingTheKey(string variable, string value, string expectedMessage)
    {
        // appsettings.Development.json supplies the demo secret: the empty variable overrides it.
        using var server = ServerProcess.Start("SampleApi", new Dictionary<string, string?>
        {
            ["SampleApi__Validation"] = "Introspection",
            [variable] = value,
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });

        var exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        Assert.Contains(expectedMessage, server.Output);
    }
}
