using System.Xml.Linq;
using IdentityHost.Keys;
using IdentityHost.Storage;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityHost.Seeding;

/// <summary>
/// Encrypts, in place, the Data Protection keys that versions before the key ring was encrypted stored in plain text:
/// every secret Data Protection marks <c>requiresEncryption</c> becomes the <c>encryptedSecret</c> element it writes
/// itself with the key-folder encryptor (<see cref="KeyFolderXmlEncryptor"/>), so the key still opens what it protected
/// but only with the keys folder. Runs at start-up, one instance at a time (<see cref="DatabaseInitializer"/>).
/// </summary>
internal static class KeyRingUpgrade
{
    private static readonly XNamespace DataProtection = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName RequiresEncryption = DataProtection + "requiresEncryption";
    private static readonly XName EncryptedSecret = DataProtection + "encryptedSecret";

    /// <summary>True when a stored key was in plain text (and now is not).</summary>
    public static async Task<bool> EncryptPlainKeysAsync(IServiceProvider services, ILogger logger, CancellationToken cancellationToken)
    {
        if (services.GetRequiredService<IOptions<KeyManagementOptions>>().Value.XmlEncryptor is not KeyFolderXmlEncryptor encryptor)
        {
            return false;
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        var encrypted = 0;
        foreach (var row in await db.DataProtectionKeys.AsTracking().ToListAsync(cancellationToken))
        {
            if (row.Xml is null)
            {
                continue;
            }

            var key = XElement.Parse(row.Xml);
            if (EncryptPlainSecrets(key, encryptor))
            {
                row.Xml = key.ToString(SaveOptions.DisableFormatting);
                encrypted++;
            }
        }

        if (encrypted == 0)
        {
            return false;
        }

        await db.SaveChangesAsync(cancellationToken);
        logger.LogWarning(
            "Encrypted {Count} Data Protection key(s) stored unencrypted by an earlier version; database backups taken before hold them in plain text: protect or destroy them",
            encrypted);
        return true;
    }

    /// <summary>Replaces each plain secret of <paramref name="key"/> with its encrypted form; true when there was one.</summary>
    internal static bool EncryptPlainSecrets(XElement key, IXmlEncryptor encryptor)
    {
        var plain = key.Descendants().Where(element => (bool?)element.Attribute(RequiresEncryption) == true).ToList();
        foreach (var element in plain)
        {
            var encrypted = encryptor.Encrypt(new XElement(element));
            element.ReplaceWith(new XElement(EncryptedSecret,
                new XAttribute("decryptorType", encrypted.DecryptorType.AssemblyQualifiedName!),
                encrypted.EncryptedElement));
        }

        return plain.Count > 0;
    }
}
