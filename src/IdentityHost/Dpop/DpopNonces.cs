using System.Globalization;
using IdentityHost.Configuration;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace IdentityHost.Dpop;

/// <summary>
/// Server-provided DPoP nonces (RFC 9449 §8), stateless: a nonce is the current time window, protected by ASP.NET Core
/// Data Protection (whose keys every instance shares), so any instance accepts what another issued. A nonce is good for
/// its window and the next one, i.e. between one and two <see cref="DpopOptions.NonceLifetime"/>s.
/// </summary>
public sealed class DpopNonces(IDataProtectionProvider protection, IOptionsMonitor<IdentityHostOptions> options, TimeProvider time)
{
    public const string HeaderName = "DPoP-Nonce";

    private readonly IDataProtector protector = protection.CreateProtector("IdentityHost.Dpop.Nonce");

    public string Issue() => protector.Protect(Window().ToString(CultureInfo.InvariantCulture));

    public bool IsValid(string? nonce)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > 512)
        {
            return false;
        }

        try
        {
            var window = long.Parse(protector.Unprotect(nonce), CultureInfo.InvariantCulture);
            var current = Window();
            return window == current || window == current - 1;
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or FormatException or OverflowException)
        {
            return false;
        }
    }

    private long Window() => time.GetUtcNow().Ticks / options.CurrentValue.Dpop.NonceLifetime.Ticks;
}
