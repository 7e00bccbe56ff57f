namespace IdentityHost.Hosting;

/// <summary>
/// Resolves the repo-root <c>keys/</c> and <c>data/</c> folders. <c>dotnet run --project src/IdentityHost</c> makes the
/// project folder the content root, so relative paths start at the nearest ancestor holding the solution or <c>.git</c>;
/// a published server without either uses its content root.
/// </summary>
public static class RepositoryPaths
{
    public static string FindRoot(string contentRoot)
    {
        for (var directory = new DirectoryInfo(contentRoot); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "IdentityHost.sln")) ||
                Directory.Exists(Path.Combine(directory.FullName, ".git")))
            {
                return directory.FullName;
            }
        }

        return contentRoot;
    }

    public static string Resolve(string contentRoot, string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(FindRoot(contentRoot), path));
}
