using BenchmarkDotNet.Running;

// BenchmarkDotNet micro-benchmarks of the hot pieces of a token request (see bench/README.md), e.g.
//   dotnet run -c Release --project bench/IdentityHost.MicroBench -- --filter '*' --job short
BenchmarkSwitcher.FromAssembly(typeof(IdentityHost.MicroBench.ClientSecretBenchmarks).Assembly).Run(args);
