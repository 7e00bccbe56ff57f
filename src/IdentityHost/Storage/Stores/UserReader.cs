namespace IdentityHost.Storage.Stores;

/// <summary>
/// Reads a user by id with one plain SELECT, for the refresh hot path: the grant only needs to know that the user
/// still exists, may sign in, is not locked out and has the same security stamp, and to read its name and e-mail for
/// the new tokens. ASP.NET Core Identity's <c>FindByIdAsync</c> does the same through EF Core's change tracker at
/// several times the cost. The user comes back detached, every column filled, so the Identity APIs that only read
/// (<c>CanSignInAsync</c>, <c>IsLockedOutAsync</c>, <c>GetSecurityStampAsync</c>) work on it unchanged; code that
/// changes a user loads it through <c>UserManager</c> as usual.
/// </summary>
public sealed class UserReader(ApplicationDbContext db)
{
    private const string Columns =
        "\"Id\", \"UserName\", \"NormalizedUserName\", \"Email\", \"NormalizedEmail\", \"EmailConfirmed\", " +
        "\"PasswordHash\", \"SecurityStamp\", \"ConcurrencyStamp\", \"PhoneNumber\", \"PhoneNumberConfirmed\", " +
        "\"TwoFactorEnabled\", \"LockoutEnd\", \"LockoutEnabled\", \"AccessFailedCount\"";

    private const string SelectById = "SELECT " + Columns + " FROM \"AspNetUsers\" WHERE \"Id\" = @id";

    /// <summary>Every column this reader reads (checked against the EF Core model by the upgrade guards).</summary>
    internal static IReadOnlyList<string> ColumnNames { get; } = PreparedSql.Names(Columns);

    public async Task<ApplicationUser?> FindByIdAsync(string? id, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(id))
        {
            return null;
        }

        await using var sql = await PreparedSql.OpenAsync(db, SelectById, cancellationToken);
        await using var reader = await sql.With("@id", id).Command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new ApplicationUser
        {
            Id = reader.GetString(0),
            UserName = PreparedSql.String(reader, 1),
            NormalizedUserName = PreparedSql.String(reader, 2),
            Email = PreparedSql.String(reader, 3),
            NormalizedEmail = PreparedSql.String(reader, 4),
            EmailConfirmed = reader.GetBoolean(5),
            PasswordHash = PreparedSql.String(reader, 6),
            SecurityStamp = PreparedSql.String(reader, 7),
            ConcurrencyStamp = PreparedSql.String(reader, 8),
            PhoneNumber = PreparedSql.String(reader, 9),
            PhoneNumberConfirmed = reader.GetBoolean(10),
            TwoFactorEnabled = reader.GetBoolean(11),
            LockoutEnd = reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12),
            LockoutEnabled = reader.GetBoolean(13),
            AccessFailedCount = reader.GetInt32(14),
        };
    }
}
