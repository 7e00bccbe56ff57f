using Xunit;

namespace IdentityHost.Testing;

/// <summary>A <c>[Fact]</c> about Unix file permissions: skipped on Windows, where the keys folder relies on ACLs.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class UnixOnlyFactAttribute : FactAttribute
{
    public UnixOnlyFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Unix file permissions only.";
        }
    }
}
