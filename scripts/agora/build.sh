# scripts/agora/build.sh — Debian packages, the autotools build, the web client
# and GraphiQL, the Apache templates, and the Debian package of the project.

PACKAGES=(autoconf automake libtool pkg-config make gcc libfcgi-dev spawn-fcgi libpq-dev
    libmongoc-dev libbson-dev libjson-c-dev libhiredis-dev libnats-dev libwebsockets-dev
    libev-dev libwebsockets-evlib-ev
    libjwt-dev libargon2-dev libsodium-dev apache2 apache2-dev postgresql postgresql-contrib
    libvips-dev libmagic-dev libapache2-mod-xsendfile
    redis-server nats-server wrk curl clang libclang-rt-14-dev valgrind nginx libnginx-mod-nchan python3 python3-websockets python3-jsonschema ca-certificates
    chromium
    debhelper dpkg-dev lintian debootstrap groff-base)   # ./agora deb and its test

# ---- packages and build ------------------------------------------------------
ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    # Node.js may come from elsewhere than Debian (nodesource ships npm inside
    # nodejs and conflicts with Debian's npm): ask for the commands, not packages
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    [ ${#missing[@]} -eq 0 ] && return 0
    as_root || die "missing packages (run as root, or install them): ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
    if [ ! -x "$ROOT/configure" ] || [ "$ROOT/configure.ac" -nt "$ROOT/configure" ]; then
        say "autoreconf"
        (cd "$ROOT" && autoreconf -fi >/dev/null 2>&1) || (cd "$ROOT" && autoreconf -fi)
    fi
    mkdir -p "$BUILD"
    if [ ! -f "$BUILD/Makefile" ] || [ "$ROOT/configure" -nt "$BUILD/Makefile" ]; then
        say "configure $CONFIGURE_FLAGS (in ${BUILD#$ROOT/})"
        # shellcheck disable=SC2086
        (cd "$BUILD" && "$ROOT/configure" -q $CONFIGURE_FLAGS)
    fi
    say "make"
    make -C "$BUILD" -j"$(nproc)" -s >"$BUILD/make.log" 2>&1 || { tail -40 "$BUILD/make.log"; die "build failed"; }
    if grep -q "warning:" "$BUILD/make.log"; then
        grep "warning:" "$BUILD/make.log" | head -20 >&2
        die "the build has warnings (the project builds warning-free)"
    fi
}

render() { # template → output, replacing @NAME@ placeholders
    local user_lines=""
    as_root && user_lines=$'User www-data\nGroup www-data'
    sed -e "s|@HTTP_PORT@|$HTTP_PORT|g" -e "s|@WS_PORT@|$WS_PORT|g" -e "s|@VHOST_ADDR@|127.0.0.1|g" \
        -e "s|@RUN_DIR@|$RUN|g" -e "s|@LOG_DIR@|$LOGS|g" -e "s|@WEB_ROOT@|$WEB_ROOT|g" \
        -e "s|@SERVER_NAME@|127.0.0.1|g" -e "s|@VHOST_CONF@|$VAR/apache/agora-vhost.conf|g" \
        -e "s|@VAR_DIR@|$VAR|g" -e "s|@GRAPHIQL_DIR@|$VAR/www/graphiql|g" \
        -e "s|@ERRORS_DIR@|$ROOT/apache/errors|g" -e "s|@DATA_DIR@|$VAR/data|g" \
        "$1" | awk -v u="$user_lines" '{ if ($0 == "@USER_LINES@") print u; else print }' >"$2"
}

# GraphiQL at /graphiql: npm's browser builds, installed from the lockfile and
# gathered in web/graphiql/dist (what make install and the package install),
# then copied to the stack's web root
install_graphiql() {
    local src="$ROOT/web/graphiql" dst="$VAR/www/graphiql"
    build_graphiql
    mkdir -p "$dst"
    cp -R "$src/dist/." "$dst/"
}

build_graphiql() {
    local src="$ROOT/web/graphiql" f
    if [ ! -f "$src/node_modules/.package-lock.json" ] || \
       [ "$src/package-lock.json" -nt "$src/node_modules/.package-lock.json" ]; then
        say "npm ci (web/graphiql)"
        (cd "$src" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed in web/graphiql"
    fi
    mkdir -p "$src/dist"
    for f in graphiql/graphiql.min.js graphiql/graphiql.min.css react/umd/react.production.min.js \
             react-dom/umd/react-dom.production.min.js; do
        cp "$src/node_modules/$f" "$src/dist/"
    done
    cp "$src/index.html" "$src/graphiql-init.js" "$src/dist/"
}

# the web client (web/): npm ci from the lockfile, then a Vite build into
# web/dist with its trusted documents' manifest (web/dist/persisted-query-manifest.json),
# only when its sources changed (a hash of them is the stamp). The
# build lands in a fresh folder renamed into place, so a running Apache never
# serves half a build. The output is not committed.
build_web() {
    local web="$ROOT/web" sum tmp
    [ -f "$web/package.json" ] || return 0
    if [ ! -f "$web/node_modules/.package-lock.json" ] || \
       [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
        say "npm ci (web)"
        (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed in web"
    fi
    sum=$(cd "$web" && find src public scripts index.html vite.config.js package.json package-lock.json \
              -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
    if [ -f "$web/dist/index.html" ] && [ "$(cat "$web/dist/.build-stamp" 2>/dev/null)" = "$sum" ]; then
        return 0
    fi
    say "vite build (web -> web/dist)"
    tmp="$web/dist.tmp.$$"
    rm -rf "$tmp"
    (cd "$web" && npx --no-install vite build --outDir "$tmp" --emptyOutDir --logLevel warn) \
        >"$LOGS/web-build.log" 2>&1 || { tail -30 "$LOGS/web-build.log"; rm -rf "$tmp"; die "web build failed"; }
    # the trusted documents' manifest (graphql_trusted_documents): what this build sends
    (cd "$web" && node scripts/persisted-manifest.mjs "$tmp/persisted-query-manifest.json") \
        >>"$LOGS/web-build.log" 2>&1 || { tail -30 "$LOGS/web-build.log"; rm -rf "$tmp"; die "web manifest failed"; }
    echo "$sum" >"$tmp/.build-stamp"
    rm -rf "$web/dist.old.$$"
    [ -d "$web/dist" ] && mv "$web/dist" "$web/dist.old.$$"
    mv "$tmp" "$web/dist"
    rm -rf "$web/dist.old.$$"
}

# ---- Debian package ------------------------------------------------------
# The web client and GraphiQL are built first (npm ci and Vite: the only steps
# that need a registry); then dpkg-buildpackage -b runs on a copy of the tree in
# DIR/src, which leaves the checkout and its builds alone, and the .deb lands
# in DIR (default build/deb). The copy is what git sees (tracked files and new
# ones not ignored) plus the two built web folders.
cmd_deb() {
    local out=${1:-$ROOT/build/deb}
    ensure_packages
    LOGS="$out/logs"
    mkdir -p "$LOGS"
    build_web
    build_graphiql
    rm -rf "$out/src" "$out"/agora_*
    mkdir -p "$out/src"
    if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$ROOT" && { git ls-files -z --cached --others --exclude-standard
                         find web/dist web/graphiql/dist -type f -print0; } \
            | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$out/src"
    else
        tar -C "$ROOT" --exclude=./var --exclude=./build --exclude=node_modules -cf - . \
            | tar -xf - -C "$out/src"
    fi
    say "dpkg-buildpackage (in ${out#$ROOT/}/src)"
    (cd "$out/src" && dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$LOGS/dpkg-buildpackage.log" 2>&1 \
        || { tail -40 "$LOGS/dpkg-buildpackage.log"; die "dpkg-buildpackage failed (${LOGS#$ROOT/}/dpkg-buildpackage.log)"; }
    ls "$out"/agora_*.deb
}
