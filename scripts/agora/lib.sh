# scripts/agora/lib.sh — what every part of ./agora uses: messages, the three
# profiles (the dev stack of `up`, the throw-away stack of `test`, the bench
# stack) with their ports and paths, pid files, waiting, and var/ with its config.
# Sourced by ./agora; every function here runs in ./agora's shell.

say() { printf '%s\n' "agora: $*" >&2; }

die() { say "$*"; exit 1; }

# ---- profiles: the dev stack (up), the throw-away test stack (test), bench ----
# ---- profiles: the dev stack (up) and the throw-away test stack (test) ------
profile_up() {
    VAR="$ROOT/var"
    BUILD="$ROOT/build/${AGORA_BUILD_FLAVOR:-release}"
    CONFIGURE_FLAGS=${AGORA_CONFIGURE_FLAGS:-}
    HTTP_PORT=${AGORA_HTTP_PORT:-8080}
    WS_PORT=${AGORA_WS_PORT:-8081}
    PG_PORT=${AGORA_PG_PORT:-55432}
    REDIS_PORT=${AGORA_REDIS_PORT:-56379}
    NATS_PORT=${AGORA_NATS_PORT:-54222}
    NATS_HTTP_PORT=${AGORA_NATS_HTTP_PORT:-58222}
    PERSIST=1
    profile_paths
}

profile_test() {
    # AGORA_TEST_VAR, AGORA_TEST_BUILD and AGORA_TEST_PORT_BASE let several
    # test stacks run side by side on one machine (e.g. two developers)
    VAR="${AGORA_TEST_VAR:-$ROOT/var/test}"
    BUILD="${AGORA_TEST_BUILD:-$ROOT/build/test}"
    # the suite runs on a sanitizer build: any ASan/UBSan report fails it
    CONFIGURE_FLAGS=${AGORA_TEST_CONFIGURE_FLAGS:---enable-sanitizers}
    local b=${AGORA_TEST_PORT_BASE:-}
    HTTP_PORT=${AGORA_TEST_HTTP_PORT:-${b:+$((b + 0))}}; HTTP_PORT=${HTTP_PORT:-18080}
    WS_PORT=${AGORA_TEST_WS_PORT:-${b:+$((b + 1))}}; WS_PORT=${WS_PORT:-18081}
    PG_PORT=${AGORA_TEST_PG_PORT:-${b:+$((b + 2))}}; PG_PORT=${PG_PORT:-15432}
    REDIS_PORT=${AGORA_TEST_REDIS_PORT:-${b:+$((b + 3))}}; REDIS_PORT=${REDIS_PORT:-16379}
    NATS_PORT=${AGORA_TEST_NATS_PORT:-${b:+$((b + 4))}}; NATS_PORT=${NATS_PORT:-14222}
    NATS_HTTP_PORT=${AGORA_TEST_NATS_HTTP_PORT:-${b:+$((b + 5))}}; NATS_HTTP_PORT=${NATS_HTTP_PORT:-18222}
    PERSIST=0
    profile_paths
}

profile_bench() {
    VAR="$ROOT/var/bench"
    BUILD="$ROOT/build/release"   # optimised, no sanitizers: the numbers are the product's
    CONFIGURE_FLAGS=${AGORA_CONFIGURE_FLAGS:-}
    local b=${AGORA_BENCH_PORT_BASE:-28080}
    HTTP_PORT=$b WS_PORT=$((b + 1)) PG_PORT=$((b + 2)) REDIS_PORT=$((b + 3))
    NATS_PORT=$((b + 4)) NATS_HTTP_PORT=$((b + 5))
    PERSIST=0
    profile_paths
}

# status, logs and svc act on the dev stack, or on the test stack with AGORA_PROFILE=test
profile_selected() {
    if [ "${AGORA_PROFILE:-up}" = test ]; then profile_test; else profile_up; fi
}

profile_paths() {
    RUN="$VAR/run"; LOGS="$VAR/logs"; SECRETS="$VAR/secrets"
    PGDATA="$VAR/pg/data"; PGSOCK="$VAR/pg/sock"
    FCGI_WORKERS=${AGORA_FCGI_WORKERS:-4}
    export AGORA_CONFIG="$VAR/agora.conf"
    # the programs read their config file and these overrides (CONTRACT §1)
    export AGORA_HTTP_PORT=$HTTP_PORT AGORA_WS_PORT=$WS_PORT AGORA_PG_PORT=$PG_PORT
    export AGORA_REDIS_PORT=$REDIS_PORT AGORA_NATS_PORT=$NATS_PORT
    export AGORA_NATS_HTTP_PORT=$NATS_HTTP_PORT AGORA_SQL_DIR="$ROOT/sql"
    export AGORA_ROOT="$ROOT" AGORA_VAR="$VAR" AGORA_BUILD="$BUILD"
    # sanitizer reports go to files that ./agora test counts as failures
    # AGORA_ASAN_EXTRA: more options when chasing a report (fast_unwind_on_malloc=0
    # gives full stacks through libraries built without frame pointers)
    export ASAN_OPTIONS="log_path=$LOGS/asan:detect_leaks=1:abort_on_error=0${AGORA_ASAN_EXTRA:+:$AGORA_ASAN_EXTRA}"
    export UBSAN_OPTIONS="log_path=$LOGS/ubsan:print_stacktrace=1:halt_on_error=0"
    export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
}

as_root() { [ "$(id -u)" = 0 ]; }

# PostgreSQL's tools refuse to run as root: run them as the postgres user then
as_pg() { if as_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

pid_alive() { # pidfile → 0 when its first pid is alive (a zombie is not)
    local pid
    [ -s "$1" ] || return 1
    pid=$(head -1 "$1")
    kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

wait_for() { # description, tries (x0.1s), command...
    local what=$1 tries=$2; shift 2
    while ! "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ $tries -gt 0 ] || { say "$what did not come up; see ${LOGS#$ROOT/}"; return 1; }
        sleep 0.1
    done
}

# ---- whole stack -------------------------------------------------------
stop_pidfile() { # name: TERM every pid in var/run/<name>.pid, then KILL stragglers
    local f="$RUN/$1.pid" pids p i
    [ -s "$f" ] || { rm -f "$f"; return 0; }
    pids=$(cat "$f")
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for i in $(seq 50); do
        local alive=0
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    rm -f "$f"
}

# ---- var/, config and secrets ---------------------------------------------
# ---- var/, config and secrets ---------------------------------------------
init_var() {
    mkdir -p "$RUN" "$LOGS" "$SECRETS" "$VAR/redis" "$VAR/nats" "$VAR/apache" "$VAR/www" "$VAR/data"
    chmod 755 "$VAR" "$RUN"
    chmod 700 "$SECRETS"
    if [ ! -s "$SECRETS/jwt.key" ]; then
        (umask 077; head -c 48 /dev/urandom | base64 -w0 >"$SECRETS/jwt.key")
        say "generated ${SECRETS#$ROOT/}/jwt.key"
    fi
    # the dev/test config file; the environment above overrides ports
    cat >"$AGORA_CONFIG" <<EOF
# written by ./agora; every key can be overridden by AGORA_<KEY>
jwt_secret_file = $SECRETS/jwt.key
sql_dir = $ROOT/sql
data_dir = $VAR/data
log_level = info
EOF
    if [ "$PERSIST" = 0 ]; then
        # tests hash passwords many times: cheap argon2 parameters there only
        printf 'argon2_m_cost_kib = 1024\nargon2_t_cost = 1\n' >>"$AGORA_CONFIG"
        # test_gqlws_faults waits for a graphql-ws connection that never says connection_init
        printf 'ws_gql_init_wait_ms = 2000\n' >>"$AGORA_CONFIG"
    fi
    if [ "$VAR" = "$ROOT/var/bench" ]; then
        # the upload benchmark moves gigabytes from a few users: no per-user limits there
        printf 'log_level = warn\nupload_rate_per_min = 0\nupload_quota_bytes = 0\n' >>"$AGORA_CONFIG"
    fi
    [ -f "$VAR/www/index.html" ] || printf '<!doctype html><title>Agora</title><p>Agora is running.\n' >"$VAR/www/index.html"
}
