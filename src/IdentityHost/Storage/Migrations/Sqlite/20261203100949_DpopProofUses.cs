using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHost.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DpopProofUses : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "DpopProofUses",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", unicode: false, maxLength: 43, nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DpopProofUses", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_DpopProofUses_ExpiresAt",
                table: "DpopProofUses",
                column: "ExpiresAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DpopProofUses");
        }
    }
}
