using Xunit;

namespace IdentityHost.Testing;

/// <summary>
/// A <c>[Fact]</c> that needs the PostgreSQL test server (<c>IDENTITYHOST_TEST_POSTGRES</c>). Without one it is skipped
/// with a hint, except on CI, where it runs and fails, so a CI run never goes green by skipping.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresPostgresFactAttribute : FactAttribute
{
    public RequiresPostgresFactAttribute()
    {
        if (!ExternalTool.IsCi && TestDatabase.PostgresServer is null)
        {
            Skip = "Set IDENTITYHOST_TEST_POSTGRES to a PostgreSQL connection string (a role with CREATEDB) to run this test; .ci/run does.";
        }
    }
}
