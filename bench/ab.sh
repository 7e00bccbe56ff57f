#!/usr/bin/env bash
# A/B comparison of two IdentityHost builds on a noisy machine (see bench/README.md, "Comparing two builds").
#
#   bench/ab.sh REF_A [REF_B]      git refs (REF_B defaults to the working tree), e.g. bench/ab.sh HEAD~1
#   bench/ab.sh FLOOR [REF_B]      A is the floor (bench/IdentityHost.Floor: Kestrel, in-memory rotation, one signature)
#
# Builds both in Release (REF_A in a temporary git worktree), starts both servers at once on throwaway databases,
# warms both up, then alternates short measured slices between them (A, B, A, B, ...) so that whatever else the machine
# is doing hits both alike. Prints refreshes per server CPU-second for each and the ratio B/A, summed over all slices,
# the median of the rounds' ratios, the ratio of successful refreshes in the same slices, each build's median p50 latency
# over its slices and its peak RSS.
# Settings, from the environment: ROUNDS=8  SLICE=6s  CONCURRENCY=16  SIGNING=RS256  JIT_WARMUP=20s
# ENV_A / ENV_B: extra VAR=value settings for one side's server only, e.g. ENV_B="DOTNET_gcServer=0" bench/ab.sh HEAD
# compares a runtime or configuration setting on the same build. BENCH_A / BENCH_B: extra load-tool options for one
# side, e.g. BENCH_B=--dpop bench/ab.sh HEAD HEAD compares DPoP refreshes with Bearer refreshes on one build
# (BENCH_A=--dpop-unsent: A makes the same proofs without sending them, so only the server's cost differs).
# PRESEED_B=1000000 first fills B's database with that many token rows (bench/preseed.sh): with the same build on
# both sides (e.g. bench/ab.sh HEAD), that measures the flat cost of a large token table.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ $# -ge 1 ] && [ "$1" != -h ] && [ "$1" != --help ] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
rounds=${ROUNDS:-8} slice=${SLICE:-6s} concurrency=${CONCURRENCY:-16}

work=$(mktemp -d -t identityhost-ab.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for side in a b; do git -C "$root" worktree remove --force "$work/$side" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

build() { # ref folder -> path of the built server
  local ref=$1 folder=$2
  if [ "$ref" = FLOOR ]; then
    dotnet build "$root/bench/IdentityHost.Floor/IdentityHost.Floor.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly\;NoSummary >&2
    echo "$root/bench/IdentityHost.Floor/bin/Release/net10.0"; return
  fi
  if [ "$ref" = WORKTREE ]; then folder=$root; else git -C "$root" worktree add --detach -f "$folder" "$ref" >/dev/null 2>&1; fi
  dotnet build "$folder/src/IdentityHost/IdentityHost.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly\;NoSummary >&2
  echo "$folder/src/IdentityHost/bin/Release/net10.0"
}

echo "== building A (${1}) and B (${2:-working tree})"
server_a=$(build "$1" "$work/a")
if [ $# -ge 2 ]; then server_b=$(build "$2" "$work/b"); else server_b=$(build WORKTREE ""); fi
dotnet build bench/IdentityHost.Bench/IdentityHost.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly\;NoSummary
bench=$root/bench/IdentityHost.Bench/bin/Release/net10.0/IdentityHost.Bench.dll

start() { # side server_dir extra_env -> "pid url"
  local side=$1 dir=$2 extra=$3 port dll=IdentityHost.dll
  port=$((20000 + RANDOM % 20000))
  [ -f "$dir/IdentityHost.Floor.dll" ] && dll=IdentityHost.Floor.dll
  mkdir -p "$work/$side-data"
  (cd "$dir" && exec env ASPNETCORE_URLS="http://127.0.0.1:$port" ASPNETCORE_ENVIRONMENT=Development \
    ConnectionStrings__IdentityHost="Data Source=$work/$side-data/bench.db" IdentityHost__KeysPath="$work/$side-data/keys" \
    IdentityHost__Issuer="http://127.0.0.1:$port/" IdentityHost__SigningAlgorithm="${SIGNING:-RS256}" FLOOR_SIGNING="${SIGNING:-RS256}" \
    Serilog__MinimumLevel__Default=Warning IdentityHost__RateLimits__Enabled=false $extra \
    dotnet "$dll" >"$work/$side.log" 2>&1) &
  echo "$! http://127.0.0.1:$port"
}
read -r pid_a url_a <<<"$(start a "$server_a" "${ENV_A:-}")"; pids+=("$pid_a")
read -r pid_b url_b <<<"$(start b "$server_b" "${ENV_B:-}")"; pids+=("$pid_b")
for url in "$url_a" "$url_b"; do
  for _ in $(seq 120); do curl -fsS -o /dev/null "$url/.well-known/openid-configuration" 2>/dev/null && break; sleep 0.5; done
done

if [ "${PRESEED_B:-0}" != 0 ]; then
  echo "== pre-seeding $PRESEED_B token rows into B's database (flat cost: run the same build on both sides)"
  "$root/bench/preseed.sh" "$work/b-data/bench.db" "$PRESEED_B"
fi

echo "== JIT warm-up, ${JIT_WARMUP:-20s} each"
declare -A extra=([a]="${BENCH_A:-}" [b]="${BENCH_B:-}")
# shellcheck disable=SC2086 # the extra options are words
dotnet "$bench" --url "$url_a" --concurrency 8 --duration "${JIT_WARMUP:-20s}" --warmup 0 ${extra[a]} >/dev/null
# shellcheck disable=SC2086
dotnet "$bench" --url "$url_b" --concurrency 8 --duration "${JIT_WARMUP:-20s}" --warmup 0 ${extra[b]} >/dev/null

echo "== $rounds rounds of $slice per build at $concurrency clients"
declare -A ok=([a]=0 [b]=0) cpu=([a]=0 [b]=0) p50=([a]="" [b]="") rss=([a]=? [b]=?) rate=([a]=0 [b]=0)
ratios=
for round in $(seq "$rounds"); do
  for side in a b; do
    if [ "$side" = a ]; then url=$url_a pid=$pid_a; else url=$url_b pid=$pid_b; fi
    # shellcheck disable=SC2086
    out=$(dotnet "$bench" --url "$url" --concurrency "$concurrency" --duration "$slice" --warmup 1s --server-pid "$pid" --fail-on-error ${extra[$side]}) ||
      { echo "$out" >&2; echo "build $side reported errors or broken chains" >&2; exit 1; }
    n=$(awk '/^  ok /{print $2}' <<<"$out"); s=$(awk '/server CPU/{print $3}' <<<"$out")
    p50[$side]+="$(awk '/latency ms/{print $4}' <<<"$out") "
    hwm=$(sed -n 's/.*VmHWM \([0-9.]*\) MB.*/\1/p' <<<"$out"); [ -n "$hwm" ] && rss[$side]=$hwm
    ok[$side]=$((ok[$side] + n)); cpu[$side]=$(awk -v a="${cpu[$side]}" -v b="$s" 'BEGIN { print a + b }')
    rate[$side]=$(awk -v n="$n" -v s="$s" 'BEGIN { print n / s }')
    printf '   round %d %s: %6d ok, %6.2f CPU-s, %5.0f per CPU-s\n' "$round" "$side" "$n" "$s" "${rate[$side]}"
  done
  ratios+="$(awk -v a="${rate[a]}" -v b="${rate[b]}" 'BEGIN { print b / a }') "
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
awk -v oa="${ok[a]}" -v ca="${cpu[a]}" -v ob="${ok[b]}" -v cb="${cpu[b]}" 'BEGIN {
  printf "A: %.0f refreshes per server CPU-second   B: %.0f   B/A = %.3f\n", oa / ca, ob / cb, (ob / cb) / (oa / ca)
  printf "successful refreshes, same slices: B/A = %.3f\n", ob / oa }'
echo "median of the rounds' B/A (refreshes per server CPU-second): $(median <<<"$ratios")"
echo "median p50 of the slices: A $(median <<<"${p50[a]}") ms   B $(median <<<"${p50[b]}") ms"
echo "peak RSS since start (VmHWM): A ${rss[a]} MB   B ${rss[b]} MB"
