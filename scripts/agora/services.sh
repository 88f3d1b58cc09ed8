# scripts/agora/services.sh — the servers of a stack, one table: each service has
# start_NAME, stop_NAME, ready_NAME (0 when it serves) and where_NAME (what
# `status` prints), and may have before_NAME (what must be done before it starts).
# The stack starts them in SERVICES order and stops them in reverse; `./agora svc`
# starts or stops one (the tests call it to make faults). Stop by pid file, never by
# process name: other stacks run on the same host.

# start order; stop goes the other way
SERVICES=(postgres redis nats fcgi wsd apache workers)

# ---- PostgreSQL ----------------------------------------------------------
ready_postgres() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
where_postgres() { echo "$PG_PORT"; }

start_postgres() {
    if ready_postgres; then return 0; fi
    mkdir -p "$VAR/pg" "$PGSOCK"
    if as_root; then
        chown -R postgres:postgres "$VAR/pg"
        touch "$LOGS/postgres.log"; chown postgres "$LOGS/postgres.log"
        runuser -u postgres -- test -x "$VAR/pg" \
            || die "the postgres user cannot reach $VAR/pg: make the checkout's parent folders traversable (chmod o+x)"
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        say "initdb ${PGDATA#$ROOT/}"
        as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U agora -E UTF8 --no-sync \
            >"$LOGS/initdb.log" 2>&1 || { cat "$LOGS/initdb.log"; die "initdb failed"; }
    fi
    # a server killed with SIGKILL leaves its lock file; once its pid is gone
    # (or a zombie nobody reaped) the file is stale and recovery replays the WAL
    if [ -s "$PGDATA/postmaster.pid" ] && ! pid_alive "$PGDATA/postmaster.pid"; then
        rm -f "$PGDATA/postmaster.pid" "$PGSOCK"/.s.PGSQL.*
    fi
    local opts="-k $PGSOCK -c listen_addresses=127.0.0.1 -p $PG_PORT"
    # tests: no fsync (the kernel keeps what a killed server wrote), but commits wait for
    # their WAL write, so a SIGKILLed PostgreSQL (chaos tests) loses no acknowledged write
    [ "$PERSIST" = 1 ] || opts="$opts -c fsync=off -c full_page_writes=off"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOGS/postgres.log" -o "$opts" -w -t 30 start >/dev/null \
        || { tail -20 "$LOGS/postgres.log"; die "PostgreSQL did not start"; }
    head -1 "$PGDATA/postmaster.pid" >"$RUN/postgres.pid"
    "$PGBIN/../bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U agora -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname='agora'" | grep -q 1 \
        || "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U agora agora
}

stop_postgres() {
    [ -s "$PGDATA/postmaster.pid" ] || { rm -f "$RUN/postgres.pid"; return 0; }
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    rm -f "$RUN/postgres.pid"
}

# ---- Redis ---------------------------------------------------------------
ready_redis() { redis-cli -p "$REDIS_PORT" ping; }
where_redis() { echo "$REDIS_PORT"; }

start_redis() {
    pid_alive "$RUN/redis.pid" && return 0
    local persist=(--save '' --appendonly no)
    # subscription offsets are data: the dev stack keeps an append-only file
    [ "$PERSIST" = 1 ] && persist=(--save '' --appendonly yes --appendfsync everysec)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
        --pidfile "$RUN/redis.pid" --dir "$VAR/redis" --logfile "$LOGS/redis.log" "${persist[@]}"
    wait_for "Redis" 50 ready_redis
}

stop_redis() {
    [ -s "$RUN/redis.pid" ] || return 0
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    stop_pidfile redis
}

# ---- NATS ----------------------------------------------------------------
ready_nats() { curl -sf "http://127.0.0.1:$NATS_HTTP_PORT/healthz?js-enabled-only=true"; }
where_nats() { echo "$NATS_PORT"; }
stop_nats() { stop_pidfile nats; }

start_nats() {
    pid_alive "$RUN/nats.pid" && return 0
    setsid nohup nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$VAR/nats" \
        -m "$NATS_HTTP_PORT" -P "$RUN/nats.pid" -l "$LOGS/nats.log" </dev/null >/dev/null 2>&1 &
    disown  # a server, not a job of this shell: no "Killed" notices when chaos tests kill it
    wait_for "NATS" 100 ready_nats
}

# ---- FastCGI pool ----------------------------------------------------------
# the schema and the streams first: they need PostgreSQL and NATS, which start before
before_fcgi() {
    "$BUILD/admin/agora-admin" migrate
    "$BUILD/admin/agora-admin" streams
}
ready_fcgi() { [ -S "$RUN/fcgi.sock" ] && pid_alive "$RUN/fcgi.pid"; }
where_fcgi() { echo "unix:${RUN#$ROOT/}/fcgi.sock"; }
stop_fcgi() { stop_pidfile fcgi; }

start_fcgi() {
    if pid_alive "$RUN/fcgi.pid"; then return 0; fi
    rm -f "$RUN/fcgi.sock"
    local own=()
    as_root && own=(-U www-data -G www-data)
    spawn-fcgi -s "$RUN/fcgi.sock" -M 0660 "${own[@]}" -F "$FCGI_WORKERS" -P "$RUN/fcgi.pid" \
        -- "$BUILD/fcgi/agora.fcgi" >>"$LOGS/fcgi.log" 2>&1 \
        || { tail -5 "$LOGS/fcgi.log"; die "spawn-fcgi failed"; }
}

# ---- realtime daemon -------------------------------------------------------
ready_wsd() { curl -sf "http://127.0.0.1:$WS_PORT/healthz"; }
where_wsd() { echo "$WS_PORT"; }
stop_wsd() { stop_pidfile wsd; }

start_wsd() {
    [ -x "$BUILD/wsd/agora-wsd" ] || return 0   # not built yet (realtime issue)
    pid_alive "$RUN/wsd.pid" && return 0
    setsid nohup "$BUILD/wsd/agora-wsd" --pidfile "$RUN/wsd.pid" </dev/null >>"$LOGS/wsd.log" 2>&1 &
    disown
    wait_for "agora-wsd" 100 ready_wsd
}

# ---- Apache ------------------------------------------------------------------
# the web client and GraphiQL it serves
before_apache() {
    install_graphiql
    build_web
}
ready_apache() { curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/"; }
where_apache() { echo "$HTTP_PORT"; }
stop_apache() {
    [ -s "$RUN/apache.pid" ] || return 0
    apache2 -f "$VAR/apache/httpd.conf" -k stop 2>/dev/null || true
    for _ in $(seq 50); do pid_alive "$RUN/apache.pid" || break; sleep 0.1; done
    stop_pidfile apache
}

start_apache() {
    WEB_ROOT="$VAR/www"
    [ -f "$ROOT/web/dist/index.html" ] && WEB_ROOT="$ROOT/web/dist"
    mkdir -p "$RUN/apache/cache"
    as_root && chown www-data "$RUN/apache" "$RUN/apache/cache"
    render "$ROOT/apache/agora-vhost.conf.in" "$VAR/apache/agora-vhost.conf"
    render "$ROOT/apache/httpd.conf.in" "$VAR/apache/httpd.conf"
    if pid_alive "$RUN/apache.pid"; then
        apache2 -f "$VAR/apache/httpd.conf" -k graceful; return 0
    fi
    apache2 -t -f "$VAR/apache/httpd.conf" 2>"$LOGS/apache-configtest.log" \
        || { cat "$LOGS/apache-configtest.log"; die "Apache config test failed"; }
    apache2 -f "$VAR/apache/httpd.conf" -k start
    wait_for "Apache" 100 ready_apache
}

# ---- background jobs (dev stack only) --------------------------------------
# What cron does in production (apache/agora.cron): the four lines once a
# minute, side by side, without waiting for them. fanout and index are
# --resident: each run stays the consumer until the next minute's run waits for
# its lock, then hands over; analytics and outbox drain and exit. Every run
# holds an advisory lock, so two runs of a job never overlap. The test stack
# does not run this loop: tests start the jobs they need (./agora worker JOB,
# or agora-worker --resident as cron does).
start_workers() {
    [ "$VAR" = "$ROOT/var" ] || return 0   # the dev stack only: tests run jobs themselves
    [ -x "$BUILD/workers/agora-worker" ] || return 0
    pid_alive "$RUN/workers.pid" && return 0
    setsid nohup bash -c '
        trap "kill \$(jobs -p) 2>/dev/null; exit 0" TERM INT
        while :; do
            "$1" --resident fanout & "$1" --resident index &
            "$1" analytics & "$1" outbox &
            # wait for the minute only (cron does not wait for its jobs either)
            sleep $((60 - $(date +%s) % 60)) & wait $!
        done' agora-workers "$BUILD/workers/agora-worker" </dev/null >>"$LOGS/workers.log" 2>&1 &
    echo $! >"$RUN/workers.pid"
}

ready_workers() { pid_alive "$RUN/workers.pid"; }
where_workers() { echo "every minute (dev stack only)"; }
stop_workers() { stop_pidfile workers; }

# ---- the whole stack -------------------------------------------------------------
is_service() { case " ${SERVICES[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

stack_up() {
    local s
    ensure_packages
    build
    init_var
    for s in "${SERVICES[@]}"; do
        if declare -F "before_$s" >/dev/null; then "before_$s"; fi
        "start_$s"
    done
    return 0
}

stack_down() {
    local i
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        "stop_${SERVICES[i]}" || true
    done
}

print_urls() {
    cat <<EOF
Agora is up:
  web client   http://127.0.0.1:$HTTP_PORT/
  REST API     http://127.0.0.1:$HTTP_PORT/api/v1/   (health: /api/v1/health)
  WebSocket    ws://127.0.0.1:$HTTP_PORT/ws   (direct: ws://127.0.0.1:$WS_PORT/)
  PostgreSQL   127.0.0.1:$PG_PORT (db agora, user agora)
  Redis        127.0.0.1:$REDIS_PORT    NATS 127.0.0.1:$NATS_PORT (monitor :$NATS_HTTP_PORT)
  logs         ./agora logs [postgres|redis|nats|apache|fcgi|wsd]
EOF
}

cmd_status() {
    local s f
    for s in "${SERVICES[@]}"; do
        f="$RUN/$s.pid"
        if pid_alive "$f"; then
            printf '%-9s up    pid %-16s %s\n' "$s" "$(tr '\n' ' ' <"$f")" "$("where_$s")"
        else
            printf '%-9s down  %-20s %s\n' "$s" "" "$("where_$s")"
        fi
    done
}

cmd_logs() {
    local svc=${1:-}
    if [ -z "$svc" ]; then
        for f in "$LOGS"/*.log; do [ -f "$f" ] && { echo "== ${f#$ROOT/}"; tail -n 10 "$f"; }; done
        return 0
    fi
    case $svc in apache) tail -n 50 "$LOGS/apache-error.log" ;; *) tail -n 50 "$LOGS/$svc.log" ;; esac
}

# `./agora svc start|stop|ready NAME`: one service of a stack (AGORA_PROFILE=test for
# the throw-away test stack, as the tests use it; the dev stack otherwise)
cmd_svc() {
    local verb=${1:-} name=${2:-}
    profile_selected
    case $verb in start|stop|ready) ;; *) die "usage: ./agora svc start|stop|ready NAME (${SERVICES[*]})" ;; esac
    is_service "$name" || die "unknown service '$name' (have: ${SERVICES[*]})"
    if [ "$verb" = ready ]; then "ready_$name" >/dev/null 2>&1; else "${verb}_$name"; fi
}
