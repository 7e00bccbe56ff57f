using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace IdentityHost.Engine;

/// <summary>
/// OpenIddict's server dispatcher with its handler lists worked out once instead of on every event. OpenIddict 7.9's
/// own dispatcher walks the whole list of ~300 handler descriptors, through an async enumerator, for each of the ~12
/// events of a token request, to pick the few whose context type matches, and resolves every filter and handler from
/// the request's services each time (profiled: ~6 % of a refresh's CPU). This one keeps, per context type, the
/// matching descriptors in OpenIddict's order with their singleton filters and handlers already resolved
/// (<see cref="ServerDispatchPlan"/>), and otherwise does exactly what OpenIddict's does: the filters are asked in
/// order, scoped filters and handlers come from the request's services, and dispatching stops once a handler marks the
/// request handled, skipped or rejected. Handlers and filters are still OpenIddict's own. At Debug it logs what
/// OpenIddict's logs, with the same templates: the upgrade guard (EngineGuards/DispatcherDifferentialTests) runs the same
/// requests through both dispatchers and compares the two sequences. See ARCHITECTURE.md, "Engine replacements".
/// </summary>
internal sealed class PlannedServerDispatcher(
    ILogger<OpenIddictServerDispatcher> logger,
    ServerDispatchPlan plan,
    IServiceProvider provider) : IOpenIddictServerDispatcher
{
    public async ValueTask DispatchAsync<TContext>(TContext context) where TContext : OpenIddictServerEvents.BaseContext
    {
        ArgumentNullException.ThrowIfNull(context);

        foreach (var step in plan.For<TContext>())
        {
            if (!await IsActiveAsync(step, context))
            {
                continue;
            }

            var handler = step.Handler ?? Resolve<TContext>(step.Descriptor);
            try
            {
                await handler.HandleAsync(context);
            }
            catch (Exception exception) when (logger.IsEnabled(LogLevel.Debug))
            {
                logger.LogDebug(exception, "An exception was thrown by {HandlerName} while handling the {EventName} event.",
                    handler.GetType().FullName, typeof(TContext).FullName);
                throw;
            }

            var debug = logger.IsEnabled(LogLevel.Debug);
            if (debug)
            {
                logger.LogDebug("The event {EventName} was successfully processed by {HandlerName}.", typeof(TContext).FullName, handler.GetType().FullName);
            }

            if (!ContextKind<TContext>.IsRequest)
            {
                continue;
            }

            var request = Unsafe.As<OpenIddictServerEvents.BaseRequestContext>(context);
            if (request.IsRequestHandled)
            {
                if (debug)
                {
                    logger.LogDebug("The event {EventName} was marked as handled by {HandlerName}.", typeof(TContext).FullName, handler.GetType().FullName);
                }

                return;
            }

            if (request.IsRequestSkipped)
            {
                if (debug)
                {
                    logger.LogDebug("The event {EventName} was marked as skipped by {HandlerName}.", typeof(TContext).FullName, handler.GetType().FullName);
                }

                return;
            }

            if (ContextKind<TContext>.IsValidating && Unsafe.As<OpenIddictServerEvents.BaseValidatingContext>(context).IsRejected)
            {
                if (debug)
                {
                    logger.LogDebug("The event {EventName} was marked as rejected by {HandlerName}.", typeof(TContext).FullName, handler.GetType().FullName);
                }

                return;
            }
        }
    }

    private ValueTask<bool> IsActiveAsync<TContext>(ServerDispatchPlan.Step<TContext> step, TContext context)
        where TContext : OpenIddictServerEvents.BaseContext
    {
        for (var index = 0; index < step.Filters.Length; index++)
        {
            var pending = Filter(step, index).IsActiveAsync(context);
            if (!pending.IsCompletedSuccessfully)
            {
                // A filter that really awaits something (none of OpenIddict's do): finish the rest asynchronously.
                return AwaitRemainingFiltersAsync(step, context, pending, index);
            }

            if (!pending.Result)
            {
                return ValueTask.FromResult(false);
            }
        }

        return ValueTask.FromResult(true);
    }

    /// <summary>
    /// The slow path of <see cref="IsActiveAsync"/>, a method of its own: as a local function capturing the step and
    /// the context, it made the compiler allocate a closure on every call, for every handler of every event.
    /// </summary>
    private async ValueTask<bool> AwaitRemainingFiltersAsync<TContext>(
        ServerDispatchPlan.Step<TContext> step, TContext context, ValueTask<bool> current, int index)
        where TContext : OpenIddictServerEvents.BaseContext
    {
        if (!await current)
        {
            return false;
        }

        for (index++; index < step.Filters.Length; index++)
        {
            if (!await Filter(step, index).IsActiveAsync(context))
            {
                return false;
            }
        }

        return true;
    }

    private IOpenIddictServerHandlerFilter<TContext> Filter<TContext>(ServerDispatchPlan.Step<TContext> step, int index)
        where TContext : OpenIddictServerEvents.BaseContext =>
        step.Filters[index] ??
        provider.GetService(step.Descriptor.FilterTypes[index]) as IOpenIddictServerHandlerFilter<TContext> ??
        throw new InvalidOperationException($"The handler filter '{step.Descriptor.FilterTypes[index]}' is not registered in the services or is not a filter of '{typeof(TContext)}'.");

    private IOpenIddictServerHandler<TContext> Resolve<TContext>(OpenIddictServerHandlerDescriptor descriptor)
        where TContext : OpenIddictServerEvents.BaseContext =>
        provider.GetService(descriptor.ServiceDescriptor.ServiceType) as IOpenIddictServerHandler<TContext> ??
        throw new InvalidOperationException($"The handler '{descriptor.ServiceDescriptor.ServiceType}' is not registered in the services.");

    /// <summary>What a context type is, worked out once per type instead of tested on every handler.</summary>
    private static class ContextKind<TContext>
    {
        public static readonly bool IsRequest = typeof(OpenIddictServerEvents.BaseRequestContext).IsAssignableFrom(typeof(TContext));
        public static readonly bool IsValidating = typeof(OpenIddictServerEvents.BaseValidatingContext).IsAssignableFrom(typeof(TContext));
    }
}

/// <summary>
/// Per event context type, the handler descriptors that apply to it, in the order of OpenIddict's list, with the
/// filters and handlers that are singletons resolved once (scoped ones stay null and are resolved per request). Rebuilt
/// when the server options are rebuilt (OpenIddict's list is a new instance then).
/// </summary>
internal sealed class ServerDispatchPlan(IOptionsMonitor<OpenIddictServerOptions> options, IServiceProvider root, IServiceCollection services)
{
    private volatile Plan current = new(null);
    private HashSet<Type>? singletons;

    /// <summary>
    /// One handler of an event, typed for its context: the filters and the handler that are singletons are held as
    /// the interfaces the dispatcher calls, so it needs no (contravariant, hence slow) interface cast per step.
    /// </summary>
    public sealed record Step<TContext>(
        OpenIddictServerHandlerDescriptor Descriptor,
        IOpenIddictServerHandlerFilter<TContext>?[] Filters,
        IOpenIddictServerHandler<TContext>? Handler) where TContext : OpenIddictServerEvents.BaseContext;

    public Step<TContext>[] For<TContext>() where TContext : OpenIddictServerEvents.BaseContext
    {
        var handlers = options.CurrentValue.Handlers;
        var snapshot = current;
        if (!ReferenceEquals(snapshot.Source, handlers) || snapshot.Count != handlers.Count)
        {
            snapshot = current = new Plan(handlers);
        }

        // Only Step<TContext>[] is ever stored under typeof(TContext).
        return Unsafe.As<Step<TContext>[]>(snapshot.ByContext.GetOrAdd(typeof(TContext), static (type, state) =>
        {
            var (plan, source) = state;
            var steps = new List<Step<TContext>>();
            foreach (var descriptor in source)
            {
                if (descriptor.ContextType == type)
                {
                    var handler = descriptor.ServiceDescriptor.ImplementationInstance ??
                        (descriptor.ServiceDescriptor.Lifetime == ServiceLifetime.Singleton ? plan.SingletonOrNull(descriptor.ServiceDescriptor.ServiceType) : null);
                    steps.Add(new Step<TContext>(descriptor,
                        [.. descriptor.FilterTypes.Select(filter => plan.SingletonOrNull(filter) is { } instance ? Typed<IOpenIddictServerHandlerFilter<TContext>>(instance, filter) : null)],
                        handler is null ? null : Typed<IOpenIddictServerHandler<TContext>>(handler, descriptor.ServiceDescriptor.ServiceType)));
                }
            }

            return steps.ToArray();
        }, (this, snapshot.Source!)));
    }

    private static T Typed<T>(object instance, Type registered) where T : class => instance as T ??
        throw new InvalidOperationException($"'{registered}' is registered as an OpenIddict handler or filter but is not a {typeof(T)}.");

    /// <summary>The one instance of a type every registration of which is a singleton; null for anything else.</summary>
    private object? SingletonOrNull(Type type)
    {
        singletons ??= services
            .GroupBy(service => service.ServiceType)
            .Where(group => group.All(service => service is { Lifetime: ServiceLifetime.Singleton, IsKeyedService: false }))
            .Select(group => group.Key)
            .ToHashSet();
        return singletons.Contains(type) ? root.GetService(type) : null;
    }

    private sealed class Plan(List<OpenIddictServerHandlerDescriptor>? source)
    {
        public List<OpenIddictServerHandlerDescriptor>? Source { get; } = source;
        public int Count { get; } = source?.Count ?? -1;
        public ConcurrentDictionary<Type, object> ByContext { get; } = new();
    }
}
