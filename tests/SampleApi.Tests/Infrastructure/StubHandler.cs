namespace SampleApi.Tests.Infrastructure;

/// <summary>A back channel that answers every request with <paramref name="answer"/>, e.g. a 500 or a refused connection.</summary>
public sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(answer(request));
}
