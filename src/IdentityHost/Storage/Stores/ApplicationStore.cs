using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore;
using Application = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication;
using Authorization = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreAuthorization;
using Token = OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken;

namespace IdentityHost.Storage.Stores;

/// <summary>
/// OpenIddict's EF Core application store, able to write an application that came from the cross-request cache
/// (<see cref="IdentityHost.Engine.ApplicationCache"/>): such a copy is not tracked by this request's DbContext,
/// which may meanwhile track a second copy of the same row (OpenIddict's validation re-reads the client id before
/// an update). EF Core cannot track both; the copy being written wins, and its concurrency token still refuses the
/// write if the row changed since the copy was read.
/// </summary>
public sealed class ApplicationStore(
    IMemoryCache cache,
    IOpenIddictEntityFrameworkCoreContext context,
    IOptionsMonitor<OpenIddictEntityFrameworkCoreOptions> options)
    : OpenIddictEntityFrameworkCoreApplicationStore<Application, Authorization, Token, string>(cache, context, options)
{
    public override async ValueTask UpdateAsync(Application application, CancellationToken cancellationToken)
    {
        await ForgetOtherCopiesAsync(application, cancellationToken);
        await base.UpdateAsync(application, cancellationToken);
    }

    public override async ValueTask DeleteAsync(Application application, CancellationToken cancellationToken)
    {
        await ForgetOtherCopiesAsync(application, cancellationToken);
        await base.DeleteAsync(application, cancellationToken);
    }

    private async ValueTask ForgetOtherCopiesAsync(Application application, CancellationToken cancellationToken)
    {
        var db = await Context.GetDbContextAsync(cancellationToken);
        foreach (var entry in db.ChangeTracker.Entries<Application>().ToList())
        {
            if (entry.Entity.Id == application.Id && !ReferenceEquals(entry.Entity, application))
            {
                entry.State = EntityState.Detached;
            }
        }
    }
}
