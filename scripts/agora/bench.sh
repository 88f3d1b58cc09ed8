# scripts/agora/bench.sh — `./agora bench [name]`: the benchmarks on their own
# stack beside their peers, and the long forms of fuzzing and chaos.

BENCHES=(rest graphql workers fanout connections replay e2e interest uploads reactions notify gqlws)

start_bench_peers() {
    # the FastCGI hello-world ceiling, behind the same Apache as the API
    if ! pid_alive "$RUN/hello.pid"; then
        rm -f "$RUN/hello.sock"
        local own=()
        as_root && own=(-U www-data -G www-data)
        spawn-fcgi -s "$RUN/hello.sock" -M 0660 "${own[@]}" -F "$FCGI_WORKERS" -P "$RUN/hello.pid" \
            -- "$BUILD/bench/fcgi-hello" >>"$LOGS/hello.log" 2>&1
    fi
    mkdir -p "$VAR/apache/extra"
    printf '<Location "/bench/hello">\n    ProxyPass "unix:%s/hello.sock|fcgi://bench-hello/"\n</Location>\n' \
        "$RUN" >"$VAR/apache/extra/bench.conf"
    # bench e2e holds its 1,000 subscribers through /ws too: Apache 2.4's WebSocket tunnel
    # keeps a worker thread per connection for its whole life (no asynchronous tunnel in
    # 2.4), so the 256 workers of httpd.conf.in would all be taken and the API starved
    printf 'ServerLimit 24\nMaxRequestWorkers 1536\n' >>"$VAR/apache/extra/bench.conf"
    # the Node peers (Fastify, graphql-http, Mercurius), installed from their lockfile;
    # the benchmarks start and stop them (their pids go to var/bench/run/peers.pid)
    local src="$ROOT/bench/peers"
    if [ ! -f "$src/node_modules/.package-lock.json" ] || \
       [ "$src/package-lock.json" -nt "$src/node_modules/.package-lock.json" ]; then
        say "npm ci (bench/peers)"
        (cd "$src" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed in bench/peers"
    fi
}

# pgbench at 128 clients beside the API's and the peers' pools needs more than
# PostgreSQL's default 100 connections: raised for the bench stack only
bench_pg_connections() {
    start_postgres
    "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U agora -d postgres \
        -c "ALTER SYSTEM SET max_connections = 400" >/dev/null
    stop_postgres
}

# The long forms of two test-suite checks, on the throw-away test stack:
# `./agora bench fuzz` (AGORA_FUZZ_SECONDS, default 300 per target) and
# `./agora bench chaos` (AGORA_CHAOS_MINUTES of random faults, default 10).
cmd_bench_long() {
    local rc=0
    profile_test
    case $1 in
        fuzz)
            ensure_packages
            build
            init_var
            run_fuzz "${AGORA_FUZZ_SECONDS:-300}"
            ! grep -q '^fail ' "$LOGS/fuzz/results" || rc=1 ;;
        chaos)
            stack_down >/dev/null 2>&1 || true
            rm -rf "$VAR"
            trap 'stack_down >/dev/null 2>&1 || true' EXIT
            stack_up
            (BUILD="$ROOT/build/release" CONFIGURE_FLAGS="" build)
            mkdir -p "$ROOT/bench/results"
            /usr/bin/python3 "$ROOT/tests/chaos/chaos.py" --minutes "${AGORA_CHAOS_MINUTES:-10}" \
                --json "$ROOT/bench/results/chaos.json" || rc=1
            stack_down >/dev/null 2>&1 || true
            trap - EXIT ;;
    esac
    return $rc
}

bench_usage() {
    cat <<USAGE
usage: ./agora bench [NAME]   (no NAME: all of them, one after the other)
  ${BENCHES[*]}
                  each writes bench/results/NAME.json beside its peer of the same run
  fuzz, chaos     the long forms of the suite's fuzzing and chaos, on the test stack
The bench stack listens on AGORA_BENCH_PORT_BASE.. (default 28080); the server is pinned
to AGORA_BENCH_SERVER_CPU (0), the load generator to AGORA_BENCH_LOADGEN_CPU (1).
USAGE
}

cmd_bench() {
    local which=${1:-all} b
    case $which in
        fuzz|chaos) cmd_bench_long "$which"; return ;;
        help|-h|--help) bench_usage; return ;;
    esac
    case " ${BENCHES[*]} all " in *" $which "*) ;; *) die "unknown benchmark '$which' (have: ${BENCHES[*]}, fuzz, chaos)" ;; esac
    profile_bench
    stack_down >/dev/null 2>&1 || true
    stop_pidfile hello
    stop_pidfile peers
    rm -rf "$VAR"
    trap 'stop_pidfile peers; stop_pidfile hello; stack_down >/dev/null 2>&1 || true' EXIT
    ensure_packages
    build
    init_var
    start_bench_peers
    bench_pg_connections
    stack_up
    local ran=()
    for b in "${BENCHES[@]}"; do
        [ "$which" = all ] || [ "$which" = "$b" ] || continue
        say "benchmark $b"
        # a benchmark reports; its failure is printed, never the suite's
        /usr/bin/python3 "$ROOT/bench/$b.py" || say "benchmark $b failed (exit $?)"
        ran+=("$b")
    done
    # the one table: each headline beside its peer or limit of the same run
    say "summary (bench/results/*.json)"
    /usr/bin/python3 "$ROOT/bench/summary.py" "${ran[@]}" || true
}
