#!/usr/bin/env bash
# Load benchmark of IdentityHost's token endpoint (see bench/README.md).
#
#   bench/run.sh            the standard matrix: refresh grant at 1, 8, 32 and 64 concurrent clients
#   bench/run.sh --smoke    5 s of refreshes at 4 clients; exits non-zero on any error or broken chain (for CI)
#
# Builds IdentityHost in Release, starts it on a throwaway SQLite database and keys folder, runs the load generator
# against it, stops it (by PID) and removes the temporary folder. Settings, from the environment:
#   DURATION=20s  WARMUP=5s  REPEAT=1  CONCURRENCY="1 8 32 64"  MODE=refresh  RESULTS=bench/results/<UTC date-time>
#   JIT_WARMUP=30s   refreshes at 8 clients before the matrix, not recorded, so tiered JIT compilation has settled
#   PRESEED=0        token rows to put in the database before the matrix (flat-cost runs: PRESEED=1000000)
#   SIGNING=RS256    the server's signing algorithm (IdentityHost:SigningAlgorithm: RS256 or ES256)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

smoke=false
case "${1:-}" in
  --smoke) smoke=true ;;
  "") ;;
  -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

if $smoke; then
  duration=${DURATION:-5s} warmup=${WARMUP:-1s} repeat=1 levels=${CONCURRENCY:-4} mode=${MODE:-refresh}
else
  duration=${DURATION:-20s} warmup=${WARMUP:-5s} repeat=${REPEAT:-1} levels=${CONCURRENCY:-"1 8 32 64"} mode=${MODE:-refresh}
fi

echo "== building IdentityHost and the load generator (Release)"
dotnet build src/IdentityHost/IdentityHost.csproj -c Release -nologo -v quiet -clp:ErrorsOnly\;NoSummary
dotnet build bench/IdentityHost.Bench/IdentityHost.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly\;NoSummary
server_dir=$root/src/IdentityHost/bin/Release/net10.0
bench_dll=$root/bench/IdentityHost.Bench/bin/Release/net10.0/IdentityHost.Bench.dll

tmp=$(mktemp -d -t identityhost-bench.XXXXXX)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() { stop_server; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port: nothing answers a connection to it.
port=""
for _ in $(seq 100); do
  candidate=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "no free port found" >&2; exit 1; }
url=http://127.0.0.1:$port

echo "== starting IdentityHost on $url (database and keys in $tmp)"
(
  cd "$server_dir"
  exec env ASPNETCORE_URLS="$url" \
    ASPNETCORE_ENVIRONMENT=Development \
    ConnectionStrings__IdentityHost="Data Source=$tmp/bench.db" \
    IdentityHost__KeysPath="$tmp/keys" \
    IdentityHost__Issuer="$url/" \
    Serilog__MinimumLevel__Default=Warning \
    IdentityHost__RateLimits__Enabled=false \
    IdentityHost__SigningAlgorithm="${SIGNING:-RS256}" \
    dotnet IdentityHost.dll
) >"$tmp/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 120); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "IdentityHost exited during start-up:" >&2; tail -n 40 "$tmp/server.log" >&2; exit 1
  fi
  curl -fsS -o /dev/null "$url/.well-known/openid-configuration" 2>/dev/null && break
  sleep 0.5
done
curl -fsS -o /dev/null "$url/.well-known/openid-configuration" || { echo "IdentityHost did not answer discovery within 60 s" >&2; tail -n 40 "$tmp/server.log" >&2; exit 1; }
echo "   up, pid $server_pid"

# Flat-cost runs: PRESEED=1000000 fills the database with that many token rows before the matrix (bench/preseed.sh).
if [ "${PRESEED:-0}" != 0 ]; then
  echo "== pre-seeding $PRESEED token rows"
  "$root/bench/preseed.sh" "$tmp/bench.db" "$PRESEED"
fi

if $smoke; then
  results=$tmp/results
else
  results=${RESULTS:-$root/bench/results/$(date -u +%Y-%m-%dT%H%M%SZ)}
fi
mkdir -p "$results"

if ! $smoke; then
  {
    echo "date (UTC):   $(date -u '+%Y-%m-%d %H:%M:%S')"
    echo "commit:       $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ modified)')"
    echo "cpu:          $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "memory:       $(free -m | awk '/^Mem:/ { print $2 " MiB" }')"
    echo ".NET:         SDK $(dotnet --version), runtime $(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ { v = $2 } END { print v }')"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (before the run; the machine may be shared)"
    echo "settings:     mode $mode, clients $levels, warm-up $warmup, duration $duration, repeat $repeat, JIT warm-up ${JIT_WARMUP:-30s}, signing ${SIGNING:-RS256}, pre-seeded rows ${PRESEED:-0}"
  } | tee "$results/machine.txt"
fi

if ! $smoke && [ "${JIT_WARMUP:-30s}" != 0 ]; then
  echo "== JIT warm-up: ${JIT_WARMUP:-30s} of $mode at 8 clients (not recorded)"
  dotnet "$bench_dll" --url "$url" --mode "$mode" --concurrency 8 --duration "${JIT_WARMUP:-30s}" --warmup 0 >/dev/null ||
    echo "   (the warm-up run reported errors; the matrix follows anyway)"
fi

status=0
for r in $(seq "$repeat"); do
  for c in $levels; do
    echo "== $mode, $c client(s), run $r of $repeat"
    dotnet "$bench_dll" --url "$url" --mode "$mode" --concurrency "$c" --duration "$duration" --warmup "$warmup" \
      --server-pid "$server_pid" --json "$results/$mode-c$c-r$r.json" --fail-on-error || status=$?
    kill -0 "$server_pid" 2>/dev/null || { echo "IdentityHost died:" >&2; tail -n 40 "$tmp/server.log" >&2; exit 1; }
  done
done

# Serilog's console lines look like "[12:34:56 WRN] ..."; anything at Warning or above is worth a look.
if grep -qE ' (WRN|ERR|FTL)\]' "$tmp/server.log"; then
  echo "== server warnings and errors (first 20 of $(grep -cE ' (WRN|ERR|FTL)\]' "$tmp/server.log") lines)"
  grep -E ' (WRN|ERR|FTL)\]' "$tmp/server.log" | head -n 20
fi
stop_server

if $smoke; then
  [ "$status" -eq 0 ] && echo "smoke: OK" || echo "smoke: FAILED (exit $status): errors or broken chains above" >&2
  exit "$status"
fi

echo "== summary ($results)"
dotnet "$bench_dll" summary "$results" | tee "$results/summary.md"
if command -v rsvg-convert >/dev/null; then
  "$root/bench/chart" "$results"
else
  echo "(no chart: rsvg-convert is missing; apt-get install -y librsvg2-bin, then bench/chart $results)"
fi
exit "$status"
