using Microsoft.AspNetCore.Identity;

namespace IdentityHost.Storage;

/// <summary>A person who signs in. Its <see cref="IdentityUser.Id"/> is the <c>sub</c> every client sees.</summary>
public sealed class ApplicationUser : IdentityUser;
