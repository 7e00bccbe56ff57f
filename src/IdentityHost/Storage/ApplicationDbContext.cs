using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace IdentityHost.Storage;

/// <summary>
/// Users (ASP.NET Core Identity), OpenIddict's applications, authorizations, scopes and tokens, and the ASP.NET Core
/// Data Protection key ring (shared by every instance). Each database engine has a subclass of its own, so each keeps
/// its own migration set (<see cref="SqliteDbContext"/>, <see cref="PostgresDbContext"/>).
/// </summary>
public abstract class ApplicationDbContext(DbContextOptions options)
    : IdentityDbContext<ApplicationUser>(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<DpopProofUse> DpopProofUses => Set<DpopProofUse>();

    public DbSet<Audit.AuditEvent> AuditEvents => Set<Audit.AuditEvent>();

    /// <summary>On SQLite, the shared connection of the token endpoint's SQL (set once per pooled context by <see cref="SqliteSessions"/>).</summary>
    internal SqliteHotPath? HotPath { get; set; }

    /// <summary>A rotation's write transaction on <see cref="HotPath"/>'s connection while it runs (this request's statements join it).</summary>
    internal Microsoft.Data.Sqlite.SqliteTransaction? HotTransaction { get; set; }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict();
        builder.Entity<DataProtectionKey>();
        builder.Entity<DpopProofUse>(entity =>
        {
            entity.ToTable("DpopProofUses");
            entity.HasKey(use => use.Id);
            entity.Property(use => use.Id).HasMaxLength(DpopProofUse.IdLength).IsUnicode(false);
            entity.HasIndex(use => use.ExpiresAt);
        });
        builder.ApplyConfiguration(new Audit.AuditEventConfiguration());
    }
}

/// <summary>The embedded default; migrations in <c>Storage/Migrations/Sqlite</c>.</summary>
public sealed class SqliteDbContext(DbContextOptions<SqliteDbContext> options) : ApplicationDbContext(options);

/// <summary>For several instances on one database; migrations in <c>Storage/Migrations/Postgres</c>.</summary>
public sealed class PostgresDbContext(DbContextOptions<PostgresDbContext> options) : ApplicationDbContext(options);
