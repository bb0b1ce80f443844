#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz, clang with ASan/UBSan) and runs each on a scratch copy
# of its committed corpus for MINUTES (default 10; fractions such as 0.5 are fine), two at a time.
# Prints executions, exec/s, coverage and the verdict per target; exits 1 if any target crashed,
# leaked, timed out or ran out of memory, naming the input that reproduces it.
#
#   bench/fuzz.sh [MINUTES]
#   SLIPWAY_FUZZ_TARGETS="fuzz_xml fuzz_config" bench/fuzz.sh 1   # a subset
#   SLIPWAY_FUZZ_PARALLEL=1 bench/fuzz.sh                          # one at a time
#   SLIPWAY_FUZZ_KEEP=1 bench/fuzz.sh                              # keep the grown corpora
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
seconds="$(awk -v m="$minutes" 'BEGIN { s = int(m * 60); print (s < 1 ? 1 : s) }')"
targets=(${SLIPWAY_FUZZ_TARGETS:-fuzz_sigv4 fuzz_query fuzz_api fuzz_config fuzz_xml fuzz_registry})
parallel="${SLIPWAY_FUZZ_PARALLEL:-2}"

export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=1
# -O1 with line tables, as fuzzing builds usually are: fast to compile, still fast to run.
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DSLIPWAY_FUZZ=ON -DSLIPWAY_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" >/dev/null
ninja -C build-fuzz -j2 fuzz

scratch="$(mktemp -d /tmp/slipway-fuzz.XXXXXX)"
echo "fuzzing ${targets[*]} for ${seconds}s each, $parallel at a time, in $scratch"

run_target() {
  local t="$1" dir="$scratch/$1"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp tests/fuzz/corpus/"$t"/* "$dir/corpus/"
  local args=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$dir/artifacts/")
  [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
  [ -f "tests/fuzz/$t.options" ] && args+=($(grep -v '^#' "tests/fuzz/$t.options"))
  local rc=0
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" UBSAN_OPTIONS="print_stacktrace=1" \
    build-fuzz/bin/"$t" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  echo "$rc" >"$dir/rc"
}

running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
printf '%-12s %12s %8s %8s %8s  %s\n' target executions exec/s cov seconds verdict
for t in "${targets[@]}"; do
  dir="$scratch/$t"
  final_stat() { sed -n "s/^stat::$1: *//p" "$dir/log" | tail -1; }
  execs="$(final_stat number_of_executed_units)"
  rate="$(final_stat average_exec_per_sec)"
  cov="$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)"
  reproducer="$(ls "$dir"/artifacts/ 2>/dev/null | head -1)"
  verdict=ok
  if [ "$(cat "$dir/rc")" != 0 ] || [ -n "$reproducer" ]; then
    verdict="FAILED (exit $(cat "$dir/rc"))"
    failed=1
  fi
  printf '%-12s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$seconds" "$verdict"
done

for t in "${targets[@]}"; do
  dir="$scratch/$t"
  if [ "$(cat "$dir/rc")" = 0 ] && [ -z "$(ls "$dir"/artifacts/ 2>/dev/null)" ]; then continue; fi
  echo
  echo "== $t failed; its log ends:"
  grep -v '^#[0-9]' "$dir/log" | tail -60
  for a in "$dir"/artifacts/*; do
    [ -e "$a" ] || continue
    echo "reproducer: $a (run: build-fuzz/bin/$t $a)"
    # The scratch dir does not outlive a CI machine: the input goes to the log too.
    echo "its bytes, base64:"; head -c 8192 "$a" | base64
  done
done

crashed=0
for t in "${targets[@]}"; do
  [ "$(cat "$scratch/$t/rc")" = 0 ] && [ -z "$(ls "$scratch/$t"/artifacts/ 2>/dev/null)" ] || crashed=$((crashed + 1))
done
echo "fuzz: $((${#targets[@]} - crashed)) passed, $crashed failed"

if [ "${SLIPWAY_FUZZ_KEEP:-0}" = 1 ] || [ "$failed" = 1 ]; then
  echo "logs and corpora kept in $scratch"
else
  rm -rf "$scratch"
fi
exit "$failed"
