using Xunit;

namespace IdentityHost.Testing;

/// <summary>
/// A <c>[Fact]</c> that needs a command-line tool on PATH, e.g. <c>[RequiresToolFact("newman", "npm install -g newman@6.2.2")]</c>.
/// Without the tool the test is skipped with the install command, except on CI (<see cref="ExternalTool.IsCi"/>):
/// there it runs and fails, so a CI run never goes green by skipping. The test gets the tool's path with
/// <see cref="ExternalTool.Require"/>, which gives that failure its message.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresToolFactAttribute : FactAttribute
{
    public RequiresToolFactAttribute(string tool, string install)
    {
        Tool = tool;
        Install = install;
        if (!ExternalTool.IsCi && ExternalTool.Find(tool) is null)
        {
            Skip = $"{tool} is not on PATH. Install it with: {install}";
        }
    }

    /// <summary>The executable looked up on PATH.</summary>
    public string Tool { get; }

    /// <summary>The command that installs it.</summary>
    public string Install { get; }
}
