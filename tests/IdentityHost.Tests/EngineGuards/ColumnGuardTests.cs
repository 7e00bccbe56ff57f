using IdentityHost.Engine;
using IdentityHost.Storage;
using IdentityHost.Storage.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Application = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication;
using Authorization = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreAuthorization;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;

namespace IdentityHost.Tests.EngineGuards;

/// <summary>
/// Upgrade guards for the SQL IdentityHost writes itself (Storage/Stores) and the copies it makes of OpenIddict's
/// entities (the application cache): every column the EF Core model maps for tokens, authorizations, users and
/// applications is handled by that code or listed here as deliberately untouched. A column a new OpenIddict or
/// Identity adds fails the test by name, instead of silently never being written.
/// </summary>
public sealed class ColumnGuardTests
{
    [Fact]
    public void TokenColumns_AreAllReadAndWrittenByTheTokenStoreSql() =>
        AssertCovered<Token>(TokenTableSql.ColumnNames, untouched: []);

    [Fact]
    public void AuthorizationColumns_AreAllReadAndWrittenByTheAuthorizationStoreSql() =>
        AssertCovered<Authorization>(AuthorizationStore.ColumnNames, untouched: []);

    [Fact]
    public void UserColumns_AreAllReadByTheUserReader() =>
        AssertCovered<ApplicationUser>(UserReader.ColumnNames, untouched: []);

    [Fact]
    public void ApplicationColumns_AreAllCopiedByTheApplicationCache()
    {
        // Every mapped property gets a value of its own; the cache's copy must carry each of them.
        var source = new Application();
        var properties = Model<Application>().GetProperties().Select(property => property.PropertyInfo!).ToList();
        foreach (var property in properties)
        {
            property.SetValue(source, property.PropertyType == typeof(string) ? $"value of {property.Name}" : throw new InvalidOperationException(
                $"Application.{property.Name} is a {property.PropertyType}: teach this guard a value for it."));
        }

        var copy = ApplicationCache.Copy(source);

        var lost = properties.Where(property => !Equals(property.GetValue(copy), property.GetValue(source))).Select(property => property.Name).ToList();
        Assert.True(lost.Count == 0, $"ApplicationCache.Copy does not copy: {string.Join(", ", lost)}. Copy them (Engine/CachingApplicationManager.cs).");
    }

    private static void AssertCovered<TEntity>(IReadOnlyList<string> handled, string[] untouched)
    {
        var entity = Model<TEntity>();
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var mapped = entity.GetProperties().Select(property => property.GetColumnName(table)!).ToHashSet(StringComparer.Ordinal);

        var unhandled = mapped.Except(handled).Except(untouched).Order(StringComparer.Ordinal).ToList();
        var gone = handled.Concat(untouched).Except(mapped).Order(StringComparer.Ordinal).ToList();
        Assert.True(unhandled.Count == 0,
            $"{table.Name} has column(s) IdentityHost's SQL does not handle: {string.Join(", ", unhandled)}. Read and write them there, or list them as deliberately untouched.");
        Assert.True(gone.Count == 0, $"{table.Name} no longer has column(s) IdentityHost's SQL names: {string.Join(", ", gone)}.");
    }

    /// <summary>The EF Core model as the server builds it (no server needed: a model change may stop one from starting).</summary>
    private static IEntityType Model<TEntity>()
    {
        using var db = new SqliteDbContext(new DbContextOptionsBuilder<SqliteDbContext>().UseSqlite("Data Source=:memory:").Options);
        return db.Model.FindEntityType(typeof(TEntity)) ?? throw new InvalidOperationException($"{typeof(TEntity)} is not mapped.");
    }
}
