namespace IdentityHost.Configuration;

/// <summary>
/// A problem the operator fixes in configuration, the keys folder or the stored set-up: a key file others may read, a
/// client that lost its secret. Its message is one line naming the setting or file, what is wrong and what would be
/// valid; start-up prints it as such, without a stack trace (see <c>StartupFailure</c>).
/// </summary>
public sealed class SetupException(string message, Exception? innerException = null) : InvalidOperationException(message, innerException);
