using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHost.Keys;

/// <summary>
/// Encrypts the Data Protection keys, which live in the database (see <c>AddStorage</c>), with a key from the keys
/// folder: a copy of the database alone opens nothing they protect (the payloads stored behind refresh tokens, the
/// sign-in cookie, antiforgery tokens), just as the payloads were when the folder's encryption key encrypted them
/// directly. AES-256-GCM under a key derived (HKDF-SHA256) from the newest encryption key; the element names that key,
/// so the folder's keys rotate freely (encryption keys are all kept, see keys/README.md). Data Protection keys stored
/// unencrypted by earlier versions stay readable.
/// </summary>
public sealed class KeyFolderXmlEncryptor(KeyRing keys) : IXmlEncryptor
{
    internal static readonly XName ElementName = "identityHostEncryptedKey";

    private static readonly byte[] Info = "IdentityHost Data Protection key ring v1"u8.ToArray();

    internal static byte[] Derive(SymmetricSecurityKey key) => HKDF.DeriveKey(HashAlgorithmName.SHA256, key.Key, 32, salt: [], info: Info);

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var key = keys.EncryptionKeys[0];
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        var derived = Derive(key);
        try
        {
            using var aes = new AesGcm(derived, tag.Length);
            aes.Encrypt(nonce, plaintext, ciphertext, tag, Encoding.UTF8.GetBytes(key.KeyId));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            CryptographicOperations.ZeroMemory(derived);
        }

        var element = new XElement(ElementName,
            new XAttribute("kid", key.KeyId),
            new XAttribute("nonce", Convert.ToBase64String(nonce)),
            new XAttribute("tag", Convert.ToBase64String(tag)),
            Convert.ToBase64String(ciphertext));
        return new EncryptedXmlInfo(element, typeof(KeyFolderXmlDecryptor));
    }
}

/// <summary>Opens what <see cref="KeyFolderXmlEncryptor"/> wrote. Data Protection creates it by type name.</summary>
public sealed class KeyFolderXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        if (encryptedElement.Name != KeyFolderXmlEncryptor.ElementName ||
            (string?)encryptedElement.Attribute("kid") is not { } kid ||
            (string?)encryptedElement.Attribute("nonce") is not { } nonce ||
            (string?)encryptedElement.Attribute("tag") is not { } tag)
        {
            throw new CryptographicException("A Data Protection key in the database is not in the form IdentityHost encrypts them in.");
        }

        var key = services.GetRequiredService<KeyRing>().EncryptionKeys.FirstOrDefault(candidate => candidate.KeyId == kid) ??
            throw new CryptographicException(
                $"A Data Protection key in the database is encrypted with the encryption key '{kid}', which is not in the keys folder. " +
                "Restore the keys folder that belongs to this database (see keys/README.md).");

        var ciphertext = Convert.FromBase64String(encryptedElement.Value);
        var plaintext = new byte[ciphertext.Length];
        var derived = KeyFolderXmlEncryptor.Derive(key);
        try
        {
            var tagBytes = Convert.FromBase64String(tag);
            using var aes = new AesGcm(derived, tagBytes.Length);
            aes.Decrypt(Convert.FromBase64String(nonce), ciphertext, tagBytes, plaintext, Encoding.UTF8.GetBytes(kid));
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            CryptographicOperations.ZeroMemory(derived);
        }
    }
}
