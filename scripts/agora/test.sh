# scripts/agora/test.sh — `./agora test`: the unit tests (make check), the
# integration tests on the throw-away stack, the fuzz targets, and the totals,
# counted from the tests' own result records (automake's .trs files, the JSON the
# integration runner writes, the fuzz results), not from their printed lines.

FUZZ_TARGETS=(config rest_body graphql ws_frame upload)
# the budget of one input: an input that runs longer or grows the process past
# this is a finding (a request that would hold a worker), not just a slow run
FUZZ_BUDGET=(-timeout=10 -rss_limit_mb=1024)

# Build the libFuzzer targets with clang (ASan + UBSan) into build/fuzz and
# run each for $1 seconds from its seed corpus; prints a line per target and
# records "pass|fail NAME" in LOGS/fuzz/results (tests/totals.py counts them).
run_fuzz() {
    local secs=$1 dir="$ROOT/build/fuzz" t
    mkdir -p "$dir" "$LOGS/fuzz"
    : >"$LOGS/fuzz/results"
    if [ ! -f "$dir/Makefile" ] || [ "$ROOT/configure" -nt "$dir/Makefile" ]; then
        (cd "$dir" && CC=clang "$ROOT/configure" -q --enable-sanitizers --enable-fuzzing) \
            || { echo "fuzz: configure with clang failed"; fuzz_all_failed; return; }
    fi
    if ! make -C "$dir" -j"$(nproc)" -s fuzz >"$dir/make.log" 2>&1; then
        tail -20 "$dir/make.log"
        fuzz_all_failed
        return
    fi
    for t in "${FUZZ_TARGETS[@]}"; do
        local corpus="$VAR/fuzz/$t"
        mkdir -p "$corpus"
        cp -r "$ROOT/tests/fuzz/corpus/$t/." "$corpus/" 2>/dev/null || true
        # one process, a time budget, crashes written beside the logs
        if ASAN_OPTIONS=detect_leaks=1 "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" \
            "${FUZZ_BUDGET[@]}" -artifact_prefix="$LOGS/fuzz/$t-" -print_final_stats=1 "$corpus" \
            >"$LOGS/fuzz/$t.log" 2>&1; then
            echo "pass $t" >>"$LOGS/fuzz/results"
            echo "fuzz: ok $t ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$LOGS/fuzz/$t.log" | awk '{print $2}') runs in ${secs}s)"
        else
            echo "fail $t" >>"$LOGS/fuzz/results"
            echo "fuzz: not ok $t (see ${LOGS#$ROOT/}/fuzz/$t.log)"
            grep -E "ERROR|SUMMARY|==[0-9]+==" "$LOGS/fuzz/$t.log" | head -10
        fi
    done
}

fuzz_all_failed() {
    local t
    for t in "${FUZZ_TARGETS[@]}"; do echo "fail $t" >>"$LOGS/fuzz/results"; done
}

# The Node clients some integration tests drive (npm ci from their lockfiles,
# only when missing or older than the lockfile). A failure is not fatal here:
# the tests that need the client fail and say so; the rest still run.
install_test_clients() {
    local dir="$ROOT/tests/integration/js/gqlws"
    if [ ! -f "$dir/node_modules/.package-lock.json" ] || \
       [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        say "npm ci (tests/integration/js/gqlws)"
    fi
    "$dir/setup.sh" || say "tests/integration/js/gqlws/setup.sh failed: the GraphQL over WebSocket tests will fail"
}

cmd_test() {
    local filter=${1:-} make_failed=() fuzz=()
    profile_test
    # a previous run that died leaves its stack: stop it before starting anew
    stack_down >/dev/null 2>&1 || true
    rm -rf "$VAR"
    trap 'stack_down >/dev/null 2>&1 || true' EXIT
    stack_up
    say "unit tests (make check)"
    find "$BUILD" -name '*.trs' -delete
    make -C "$BUILD" -s check -j"$(nproc)" >"$BUILD/check.log" 2>&1 || make_failed=(--make-check-failed)
    grep -E "^(FAIL|ERROR|XPASS):" "$BUILD/check.log" || true
    # an optimised build without sanitizers, for the valgrind checks (and benchmarks)
    say "release build (for valgrind)"
    (BUILD="$ROOT/build/release" CONFIGURE_FLAGS="" build) || die "release build failed"
    export AGORA_RELEASE_BUILD="$ROOT/build/release"
    say "integration tests"
    install_test_clients
    /usr/bin/python3 "$ROOT/tests/run_integration.py" ${filter:+--filter "$filter"} \
        --json "$LOGS/integration.json" | tee "$LOGS/integration.out" || true
    stack_down >/dev/null 2>&1 || true
    trap - EXIT
    if [ -z "$filter" ] && [ "${AGORA_FUZZ_SECONDS:-30}" != 0 ]; then
        say "fuzzing (${AGORA_FUZZ_SECONDS:-30} s per target)"
        run_fuzz "${AGORA_FUZZ_SECONDS:-30}"
        fuzz=(--fuzz)
    fi
    # the totals from the phases' own records; a sanitizer report anywhere is a failure
    /usr/bin/python3 "$ROOT/tests/totals.py" --build "$BUILD" --logs "$LOGS" "${make_failed[@]}" "${fuzz[@]}"
}
