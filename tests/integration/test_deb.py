"""The Debian package (CONTRACT §10), end to end: build it with ./agora deb
(dpkg-buildpackage), lintian without errors, install it into a throw-away
Debian 12 root made by debootstrap, run agora-admin setup there against the
test stack's PostgreSQL, Redis and NATS, start the commands of the installed
systemd units and Apache with the installed site, register, post and receive
the event over the site's /ws, then purge and find the root as it was before
the install, the data kept.

The root shares this machine's network (the test servers are on loopback) but
not its files. Its Apache and agora-wsd take ports of this stack's range
(HTTP_PORT + 10 and + 11), set in the installed site and configuration the
way an operator would. No systemd runs here: a unit's ExecStart is read from
the installed file and run in the root with its User, Environment and
RuntimeDirectory. Every command in the root runs in a mount namespace of its
own (/proc, and PostgreSQL's socket folder for setup), so nothing is mounted
on the machine itself. The debootstrap result is cached in var/cache/ between
local runs (AGORA_DEB_CACHE=0: never); CI starts without it.

The functions run in order and share the state in S."""
import grp
import hashlib
import os
import pwd
import re
import shlex
import shutil
import signal
import stat
import subprocess
import threading
import time

import agora_test as at
from agora_test import ROOT, VAR, expect, eventually, request, api
from wsclient import WS

DEB = os.path.join(VAR, "deb")            # package build, logs, the root
ROOTFS = os.path.join(DEB, "root")
LOGS = os.path.join(DEB, "logs")
CACHE = os.path.join(ROOT, "var", "cache")
CACHE_DAYS = 14
SUITE = "bookworm"
MIRROR = os.environ.get("AGORA_DEB_MIRROR", "http://deb.debian.org/debian")
HTTP2 = at.HTTP_PORT + 10                 # the installed site's Apache
WSD2 = at.HTTP_PORT + 11                  # the installed agora-wsd
NATS2 = at.HTTP_PORT + 12                 # Debian's nats-server in the root
PG_SOCK = os.path.join(VAR, "pg", "sock")
PSQL = "/usr/lib/postgresql/15/bin/psql"
ENV_PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

S = {}


# ---- the throw-away root ----------------------------------------------------
def _cache_file():
    return os.path.join(CACHE, f"debootstrap-{SUITE}-minbase.tar")


def _start_debootstrap():
    """Begin making the root (or unpacking the cached one) while the package builds."""
    if os.path.isdir(ROOTFS):
        shutil.rmtree(ROOTFS)
    os.makedirs(LOGS, exist_ok=True)
    S["t_root0"] = time.monotonic()
    log = open(os.path.join(LOGS, "debootstrap.log"), "w")
    cache = _cache_file()
    if os.path.exists(cache) and time.time() - os.path.getmtime(cache) > CACHE_DAYS * 86400:
        os.unlink(cache)   # a fresher base now and then: fewer upgrades to fetch
    if os.environ.get("AGORA_DEB_CACHE", "1") != "0" and os.path.exists(cache):
        os.makedirs(ROOTFS)
        cmd = ["tar", "-xf", _cache_file(), "-C", ROOTFS]
        S["root_from"] = "cache"
    else:
        cmd = ["debootstrap", "--variant=minbase", SUITE, ROOTFS, MIRROR]
        S["root_from"] = "debootstrap"
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

    def timed():  # how long the root itself takes, though it runs beside the build
        rc = proc.wait()
        S["t_root"] = time.monotonic() - S["t_root0"]
        return rc
    S["root_wait"] = threading.Thread(target=lambda: S.__setitem__("root_rc", timed()))
    S["root_wait"].start()


def _finish_root():
    S["root_wait"].join(timeout=900)
    expect(S.get("root_rc") == 0, f"{S['root_from']} failed: see {LOGS}/debootstrap.log")
    if S["root_from"] == "debootstrap" and os.environ.get("AGORA_DEB_CACHE", "1") != "0":
        os.makedirs(CACHE, exist_ok=True)
        tmp = _cache_file() + ".tmp"
        subprocess.run(["tar", "-cf", tmp, "-C", ROOTFS, "."], check=True)
        os.replace(tmp, _cache_file())
    # services are started by the test, never by a package's scripts
    with open(os.path.join(ROOTFS, "usr/sbin/policy-rc.d"), "w") as f:
        f.write("#!/bin/sh\nexit 101\n")
    os.chmod(os.path.join(ROOTFS, "usr/sbin/policy-rc.d"), 0o755)
    os.makedirs(os.path.join(ROOTFS, "run/postgresql"), exist_ok=True)
    shutil.copy(os.path.join(DEB, S["deb_name"]), os.path.join(ROOTFS, "tmp"))


def _argv(cmd, user=None, env=None, pg_socket=False):
    """cmd run inside the root, in a mount namespace that dies with it."""
    mounts = f"mount -t proc proc {shlex.quote(ROOTFS)}/proc"
    if pg_socket:
        mounts += f" && mount --bind {shlex.quote(PG_SOCK)} {shlex.quote(ROOTFS)}/run/postgresql"
    if user:  # names of the root's accounts, which this machine does not have
        name, _, group = user.partition(":")
        uid, gid = _root_passwd(name)
        user = f"{uid}:{_root_gid(group) if group else gid}"
    inner = ["chroot"] + ([f"--userspec={user}"] if user else []) + [
        ROOTFS, "/usr/bin/env", "-i", ENV_PATH, "LANG=C.UTF-8", "HOME=/root",
        "DEBIAN_FRONTEND=noninteractive"] + [f"{k}={v}" for k, v in (env or {}).items()] + cmd
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            mounts + ' && exec "$@"', "sh"] + inner


def run_in_root(cmd, user=None, env=None, pg_socket=False, check=True, timeout=600):
    r = subprocess.run(_argv(cmd, user, env, pg_socket), capture_output=True, text=True,
                       timeout=timeout)
    if check:
        expect(r.returncode == 0, f"{cmd} in the root: exit {r.returncode}\n{r.stdout[-3000:]}"
                                  f"\n{r.stderr[-3000:]}")
    return r


def in_root(path):
    return os.path.join(ROOTFS, path.lstrip("/"))


def _root_passwd(name):
    for line in open(in_root("/etc/passwd")):
        f = line.split(":")
        if f[0] == name:
            return int(f[2]), int(f[3])
    return None


def _root_gid(name):
    for line in open(in_root("/etc/group")):
        f = line.split(":")
        if f[0] == name:
            return int(f[2])
    raise AssertionError(f"no group {name} in the root")


def _snapshot():
    """What purge must give back: /etc (names, modes, owners, link targets, and the
    contents of the account files and of Apache's configuration), Agora's folders,
    the state of deb-systemd-helper and of Apache's helpers, the package's status.
    /run is not compared: a tmpfs, emptied at boot (the units' RuntimeDirectory)."""
    snap = {}
    for top in ("/etc", "/var/lib/agora", "/var/log/agora", "/usr/share/agora",
                "/var/lib/systemd/deb-systemd-helper-enabled", "/lib/systemd/system",
                "/var/lib/apache2"):
        for dirpath, dirs, files in os.walk(in_root(top)):
            # Apache's helpers keep their bookkeeping folders, empty once Agora's entries are gone
            for n in (files if top == "/var/lib/apache2" else dirs + files):
                p = os.path.join(dirpath, n)
                rel = p[len(ROOTFS):]
                if rel.endswith("-") or rel in ("/etc/ld.so.cache",):
                    continue  # the account tools' backups, the loader's cache
                st = os.lstat(p)
                v = (stat.filemode(st.st_mode), st.st_uid, st.st_gid,
                     os.readlink(p) if stat.S_ISLNK(st.st_mode) else None)
                if stat.S_ISREG(st.st_mode) and (rel.startswith("/etc/apache2/") or rel in (
                        "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow")):
                    v += (hashlib.sha256(open(p, "rb").read()).hexdigest(),)
                snap[rel] = v
    r = run_in_root(["dpkg-query", "-W", "-f", "${db:Status-Status}", "agora"], check=False)
    snap["dpkg agora"] = r.stdout.strip() or "not known"
    return snap


def _processes_in_root():
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink(f"/proc/{p}/root") == ROOTFS:
                    pids.append(int(p))
            except OSError:
                pass
    return pids


def _psql(sql, db="postgres"):
    return subprocess.run([PSQL, "-X", "-qtA", "-h", "127.0.0.1", "-p", str(at.PG_PORT), "-U",
                           "agora", "-d", db, "-c", sql], capture_output=True, text=True,
                          check=True).stdout.strip()


# ---- the units, as systemd would run them -----------------------------------
def unit(path):
    """Key -> list of values of an installed unit file (continuation lines joined)."""
    text = open(in_root(path)).read().replace("\\\n", " ")
    d = {}
    for line in text.splitlines():
        line = line.strip()
        if line and line[0] not in "#;[" and "=" in line:
            k, v = line.split("=", 1)
            d.setdefault(k.strip(), []).append(v.strip())
    return d


def start_unit(path, log):
    """Run a unit's ExecStart in the root as its User:Group, with its Environment and
    RuntimeDirectory; a Type=forking unit is waited for, a simple one returned."""
    u = unit(path)
    env = {}
    for e in u.get("Environment", []):
        for kv in shlex.split(e):
            k, _, v = kv.partition("=")
            env[k] = v
    for d in u.get("RuntimeDirectory", []):
        os.makedirs(in_root("/run/" + d), exist_ok=True)
    user = u.get("User", ["root"])[0]
    spec = None if user == "root" else f"{user}:{u.get('Group', [user])[0]}"
    argv = _argv(shlex.split(u["ExecStart"][0]), spec, env)
    limit = int(u.get("LimitNOFILE", ["0"])[0])

    def limits():
        import resource
        if limit:
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(limit, hard), hard))

    out = open(os.path.join(LOGS, log), "a")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, preexec_fn=limits)
    if u.get("Type", ["simple"])[0] == "forking":
        expect(p.wait(timeout=30) == 0, f"{path}: ExecStart failed, see {LOGS}/{log}")
    return p


def _stop_all():
    """Stop what the test started in the root: by its pid files, then the process."""
    if os.path.exists(in_root("/run/apache2/apache2.pid")):
        run_in_root(shlex.split(unit("/lib/systemd/system/apache2.service")["ExecStop"][0]),
                    check=False, timeout=30)
    fcgi = in_root("/run/agora/fcgi.pid")
    if os.path.exists(fcgi):
        mine = _processes_in_root()   # a pid of the file that is no longer ours is left alone
        for pid in open(fcgi).read().split():
            if int(pid) in mine:
                os.kill(int(pid), signal.SIGTERM)
        os.unlink(fcgi)
    _stop_proc("wsd")
    _stop_proc("nats")
    eventually(lambda: not _processes_in_root(), timeout=15, what="every process of the root gone")


def _stop_proc(name):
    """SIGTERM, as systemd stops a simple unit, to a daemon this test started."""
    p = S.pop(name, None)
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _set_keys(path, values, pattern):
    """Replace `key = value` (or Apache's `Define KEY value`) lines of an installed file."""
    text = open(in_root(path)).read()
    for k, v in values.items():
        text, n = re.subn(pattern.format(key=re.escape(k)), lambda m: m.group(1) + str(v), text,
                          flags=re.M)
        expect(n == 1, f"{path}: one line sets {k} ({n} found)")
    open(in_root(path), "w").write(text)


# ---- the tests --------------------------------------------------------------
def test_deb_builds_and_lintian_finds_no_error():
    for tool in ("dpkg-buildpackage", "lintian", "debootstrap", "unshare"):
        if shutil.which(tool) is None:
            raise at.Skip(f"{tool} is not installed (./agora installs it as root)")
    if os.geteuid() != 0:
        raise at.Skip("the package test needs root (debootstrap, chroot, mount namespaces)")
    if subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode != 0:
        raise at.Skip("no mount namespaces here (unshare --mount needs CAP_SYS_ADMIN)")
    _start_debootstrap()
    t0 = time.monotonic()
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")   # make check ran in this suite already
    r = subprocess.run([os.path.join(ROOT, "agora"), "deb", DEB], env=env, capture_output=True,
                       text=True, timeout=1200)
    expect(r.returncode == 0, f"./agora deb: {r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    S["t_build"] = time.monotonic() - t0
    version = open(os.path.join(ROOT, "debian", "changelog")).readline().split("(")[1].split(")")[0]
    ac = re.search(r"AC_INIT\(\[agora\], \[([^\]]+)\]", open(os.path.join(ROOT, "configure.ac")).read())
    expect(ac and ac.group(1) == version, f"debian/changelog {version} is configure.ac's version")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    S["deb_name"] = f"agora_{version}_{arch}.deb"
    deb = os.path.join(DEB, S["deb_name"])
    expect(os.path.exists(deb), f"{deb} built ({os.listdir(DEB)})")
    files = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True).stdout
    for f in ("./usr/bin/agora.fcgi", "./usr/bin/agora-wsd", "./usr/bin/agora-worker",
              "./usr/bin/agora-admin", "./etc/agora/agora.conf", "./etc/cron.d/agora",
              "./etc/apache2/sites-available/agora.conf", "./lib/systemd/system/agora-fcgi.service",
              "./lib/systemd/system/agora-wsd.service", "./usr/share/agora/sql/001_core.sql",
              "./usr/share/agora/web/index.html", "./usr/share/agora/graphiql/index.html",
              "./usr/share/man/man5/agora.conf.5.gz", "./usr/share/man/man8/agora-wsd.8.gz",
              "./usr/share/man/man8/agora.fcgi.8.gz", "./usr/share/man/man8/agora-worker.8.gz",
              "./usr/share/man/man8/agora-admin.8.gz"):
        expect(re.search(r" " + re.escape(f) + r"$", files, re.M), f"{f} in the package")
    expect("/etc/agora/jwt.key" not in files, "the JWT key is made at installation, not shipped")
    fields = subprocess.run(["dpkg-deb", "-f", deb, "Depends", "Recommends"], capture_output=True,
                            text=True).stdout
    S["depends"] = re.search(r"^Depends: (.*)$", fields, re.M).group(1)
    for lib in ("libpq5", "libnats3", "libwebsockets17", "libfcgi0ldbl"):
        expect(lib in S["depends"], f"Depends names {lib} (shlibs): {S['depends']}")
    rec = re.search(r"^Recommends: (.*)$", fields, re.M).group(1)
    for srv in ("postgresql", "redis-server", "nats-server"):
        expect(srv in rec and srv not in S["depends"], f"{srv} is recommended: {fields}")
    t0 = time.monotonic()
    changes = deb.replace(".deb", ".changes")
    r = subprocess.run(["lintian", "--fail-on", "error", changes], capture_output=True, text=True)
    open(os.path.join(LOGS, "lintian.log"), "w").write(r.stdout + r.stderr)
    errors = [l for l in r.stdout.splitlines() if l.startswith("E:")]
    expect(r.returncode == 0 and not errors, f"lintian errors:\n" + "\n".join(errors) + r.stderr[-500:])
    S["t_lintian"] = time.monotonic() - t0


def test_deb_installs_into_a_debian_12_root():
    expect("deb_name" in S, "the package was built")
    _finish_root()
    t0 = time.monotonic()
    run_in_root(["apt-get", "update", "-qq"])
    # its dependencies first, so that the snapshot holds Apache as a host would have it,
    # and Debian's nats-server (recommended) for setup to turn JetStream on in
    run_in_root(["apt-get", "satisfy", "-y", "-qq", "--no-install-recommends", S["depends"]])
    run_in_root(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nats-server"])
    # what every stock Apache host has (their ports are moved away from 80 below)
    S["before"] = _snapshot()
    expect(S["before"]["dpkg agora"] == "not known", S["before"]["dpkg agora"])
    run_in_root(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                 "/tmp/" + S["deb_name"]])
    S["t_install"] = time.monotonic() - t0

    expect(_root_passwd("agora") is not None, "the system user agora exists")
    uid, gid = _root_passwd("agora")
    for f in ("/etc/agora/jwt.key", "/etc/agora/agora.conf"):
        st = os.stat(in_root(f))
        expect(stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == 0 and st.st_gid == gid,
               f"{f}: mode {oct(st.st_mode)}, owner {st.st_uid}:{st.st_gid} (want 0640 root:agora)")
    key = open(in_root("/etc/agora/jwt.key")).read()
    expect(len(key) >= 64 and re.fullmatch(r"[A-Za-z0-9+/=]+", key), "a 48-byte base64 key")
    conffiles = open(in_root("/var/lib/dpkg/info/agora.conffiles")).read().split()
    expect("/etc/agora/agora.conf" in conffiles and "/etc/cron.d/agora" in conffiles, conffiles)
    for mod in ("proxy", "proxy_fcgi", "proxy_wstunnel", "rewrite", "headers", "alias", "mime"):
        expect(os.path.exists(in_root(f"/etc/apache2/mods-enabled/{mod}.load")), f"{mod} enabled")
    expect(os.readlink(in_root("/etc/apache2/sites-enabled/agora.conf")) == "../sites-available/agora.conf",
           "the site enabled")
    for u in ("agora-fcgi.service", "agora-wsd.service"):
        expect(os.path.islink(in_root(f"/etc/systemd/system/multi-user.target.wants/{u}")),
               f"{u} enabled")
    cron = open(in_root("/etc/cron.d/agora")).read()
    expect(re.search(r"^\S+( +\S+){4} +agora +/usr/bin/agora-worker outbox", cron, re.M), cron)
    st = os.stat(in_root("/var/log/agora"))
    expect(st.st_uid == uid, "/var/log/agora belongs to agora (the cron jobs write there)")
    r = run_in_root(["man", "-w", "agora.conf"], check=False)
    expect(r.stdout.strip().endswith("/usr/share/man/man5/agora.conf.5.gz") or r.returncode != 0,
           r.stdout)   # man-db is not in a minbase root: the file itself was checked above

    # an operator's edits: the servers of this stack, and ports of this stack's range
    _set_keys("/etc/agora/agora.conf",
              {"pg_host": "127.0.0.1", "pg_port": at.PG_PORT, "redis_port": at.REDIS_PORT,
               "nats_port": at.NATS_PORT, "ws_port": WSD2, "http_port": HTTP2},
              r"^({key}\s*=\s*).*$")
    _set_keys("/etc/apache2/sites-available/agora.conf",
              {"AGORA_HTTP_PORT": HTTP2, "AGORA_WS_PORT": WSD2}, r"^(Define {key} ).*$")
    ports = open(in_root("/etc/apache2/ports.conf")).read()
    open(in_root("/etc/apache2/ports.conf"), "w").write(re.sub(r"^(\s*Listen\b)", r"# \1", ports,
                                                               flags=re.M))
    r = run_in_root(["apache2ctl", "configtest"], check=False)
    expect(r.returncode == 0 and "Syntax OK" in r.stderr, f"configtest: {r.stderr}")


def test_deb_setup_creates_role_database_schema_streams_and_is_idempotent():
    expect("before" in S, "the package is installed")
    at.on_cleanup(_stop_all)
    # the local superuser as on a Debian host: the OS user postgres and the server's
    # socket (this stack's, mounted where Debian's would be) reaching a role postgres
    run_in_root(["adduser", "--system", "--group", "--quiet", "--no-create-home", "postgres"])
    if _psql("SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'") == "0":
        _psql("CREATE ROLE postgres SUPERUSER LOGIN")
        S["made_postgres_role"] = True
    name = f"agora_deb_{os.getpid()}"
    S["setup_db"] = name
    env = {"AGORA_PG_USER": name, "AGORA_PG_DBNAME": name}
    r = run_in_root(["agora-admin", "setup"], env=env, pg_socket=True, check=False)
    out = r.stdout + r.stderr
    open(os.path.join(LOGS, "setup-1.log"), "w").write(out)
    expect(r.returncode == 0 and "setup: done" in out, f"setup: exit {r.returncode}\n{out}")
    for line in (f"role {name} created", f"database {name} created (owner {name})",
                 "applied 001_core.sql", "stream CHANNEL_STREAM", "setup: services:"):
        expect(line in out, f"'{line}' in\n{out}")
    expect(_psql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{name}'") == name,
           "the database belongs to the new role")
    tables = _psql("SELECT count(*) FROM schema_migrations", db=name)
    expect(int(tables) == len([f for f in os.listdir(os.path.join(ROOT, "sql")) if f.endswith(".sql")]),
           f"every migration recorded ({tables})")
    # again: nothing to create, nothing to apply
    r = run_in_root(["agora-admin", "setup"], env=env, pg_socket=True, check=False)
    out = r.stdout + r.stderr
    open(os.path.join(LOGS, "setup-2.log"), "w").write(out)
    expect(r.returncode == 0 and "setup: done" in out, out)
    for line in (f"role {name} exists", f"database {name} exists", "0 applied",
                 "stream CHANNEL_STREAM"):
        expect(line in out, f"'{line}' in the second run:\n{out}")
    expect(f"role {name} created" not in out and f"database {name} created" not in out,
           f"nothing created twice:\n{out}")
    # and what it cannot do, it names with the commands that do it by hand
    r = run_in_root(["agora-admin", "setup"], env=dict(env, AGORA_NATS_PORT=str(HTTP2 + 5),
                                                        AGORA_NATS_TIMEOUT_MS="300"),
                    pg_socket=True, check=False)
    out = r.stdout + r.stderr
    expect(r.returncode == 1 and "could not create the streams" in out and "jetstream {" in out
           and "incomplete" in out, f"NATS unreachable:\n{out}")

    # Debian's nats-server as installed, on a port of this stack's range: no JetStream.
    # setup turns it on in its configuration; once restarted, the server has it.
    _set_keys("/etc/nats-server.conf", {"port": NATS2}, r"^({key}:\s*).*$")
    env = dict(env, AGORA_NATS_PORT=str(NATS2))
    S["nats"] = start_unit("/lib/systemd/system/nats-server.service", "nats.log")
    eventually(lambda: _tcp_open(NATS2), timeout=10, what="nats-server in the root")
    r = run_in_root(["agora-admin", "setup"], env=env, pg_socket=True, check=False)
    out = r.stdout + r.stderr
    open(os.path.join(LOGS, "setup-3.log"), "w").write(out)
    expect(r.returncode == 1 and "JetStream turned on in /etc/nats-server.conf" in out
           and "restart nats-server" in out, f"setup with a nats-server without JetStream:\n{out}")
    conf = open(in_root("/etc/nats-server.conf")).read()
    expect(re.search(r'^jetstream \{\s*store_dir: "/var/lib/nats"\s*\}', conf, re.M), conf)
    expect(os.stat(in_root("/var/lib/nats")).st_uid == _root_passwd("nats")[0],
           "the store belongs to the server's user")
    _stop_proc("nats")
    S["nats"] = start_unit("/lib/systemd/system/nats-server.service", "nats.log")
    eventually(lambda: _tcp_open(NATS2), timeout=10, what="nats-server restarted")
    r = run_in_root(["agora-admin", "setup"], env=env, pg_socket=True, check=False)
    out = r.stdout + r.stderr
    open(os.path.join(LOGS, "setup-4.log"), "w").write(out)
    expect(r.returncode == 0 and "stream CHANNEL_STREAM" in out and "turned on" not in out,
           f"setup once nats-server has JetStream:\n{out}")
    _stop_proc("nats")


def test_deb_site_registers_posts_and_delivers_over_its_ws():
    expect("before" in S, "the package is installed")
    at.on_cleanup(_stop_all)
    t0 = time.monotonic()
    start_unit("/lib/systemd/system/agora-fcgi.service", "fcgi.log")
    S["wsd"] = start_unit("/lib/systemd/system/agora-wsd.service", "wsd.log")
    start_unit("/lib/systemd/system/apache2.service", "apache.log")
    S["t_start"] = time.monotonic() - t0
    eventually(lambda: _http_ok(f"http://127.0.0.1:{WSD2}/healthz"), timeout=15,
               what="the installed agora-wsd answering /healthz")
    r = eventually(lambda: _ok(request("GET", "/api/v1/health", port=HTTP2)), timeout=15,
                   what="the installed site's /api/v1/health")
    expect(r.json["status"] == "ok", r)
    wsd_user = _proc_user(S["wsd"].pid)
    expect(wsd_user == "agora", f"agora-wsd runs as its unit's User (agora), not {wsd_user}")
    fcgi_pids = open(in_root("/run/agora/fcgi.pid")).read().split()
    expect(len(fcgi_pids) == 4 and all(_proc_user(int(p)) == "agora" for p in fcgi_pids),
           f"four FastCGI workers as agora: {fcgi_pids}")

    page = request("GET", "/", port=HTTP2)
    expect(page.status == 200 and b"<script" in page.body, f"the web client: {page!r}")
    expect(request("GET", "/graphiql/", port=HTTP2).status == 200, "GraphiQL")
    src = at.fresh_source()
    name = at.unique("deb")
    r = api("POST", "/auth/register", {"username": name, "password": "password123"}, port=HTTP2,
            source=src)
    expect(r.status == 201, f"register through the installed site: {r!r}")
    token, uid = r.json["token"], r.json["user"]["id"]
    S["user"] = uid
    r = api("POST", "/channels", {"name": at.unique("c"), "visibility": "public"}, token=token,
            port=HTTP2, source=src)
    expect(r.status == 201, r)
    cid = r.json["id"]
    ws = WS(token=token, port=HTTP2, path="/ws")
    try:
        ws.ready()
        q = ('{"query":"mutation($c: ID!) { createPost(channelId: $c, body: \\"from the package\\") '
             '{ id } }","variables":{"c":"%s"}}' % cid)
        r = request("POST", "/graphql", raw=q.encode(), port=HTTP2, source=src,
                    headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
        expect(r.status == 200 and not r.json.get("errors"), f"createPost: {r!r}")
        pid = r.json["data"]["createPost"]["id"]
        ev = ws.wait_type("channel_message", channelId=cid)
        expect(ev["messageId"] == pid and isinstance(ev["seq"], int), ev)
    finally:
        ws.close()

    # a cron line as cron runs it: its user, its environment, its redirection
    lines = [l for l in open(in_root("/etc/cron.d/agora")).read().splitlines()
             if l and not l.startswith("#")]
    env = dict(l.split("=", 1) for l in lines if re.match(r"^[A-Z_]+=", l))
    job = [l.split(None, 6) for l in lines if "agora-worker outbox" in l][0]
    r = run_in_root(["sh", "-c", job[6]], user=f"{job[5]}:{job[5]}", env=env, check=False)
    expect(r.returncode == 0, f"the cron line exits 0: {r.stderr}")
    log = open(in_root("/var/log/agora/workers.log")).read()
    expect("outbox" in log, f"the job wrote to /var/log/agora/workers.log: {log[-500:]}")
    _stop_all()


def test_deb_purge_gives_the_root_back_and_keeps_the_data():
    expect("before" in S, "the package is installed")
    expect(not _processes_in_root(), "nothing of the root still runs")
    t0 = time.monotonic()
    run_in_root(["apt-get", "purge", "-y", "-qq", "agora"])
    S["t_purge"] = time.monotonic() - t0
    after = _snapshot()
    before = S["before"]
    # the test's own edits, the account it added and what setup (the operator's command,
    # not the package) changed in nats-server's configuration are not the package's
    for k in ("/etc/apache2/ports.conf", "/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow",
              "/etc/nats-server.conf"):
        before.pop(k, None)
        after.pop(k, None)
    gone = sorted(set(before) - set(after))
    added = sorted(set(after) - set(before))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    expect(not gone and not added and not changed,
           f"purge leaves the root as before the install: gone {gone[:20]}, left {added[:20]}, "
           f"changed {changed[:20]}")
    expect(_root_passwd("agora") is None, "no user agora")
    expect(not any(l.startswith("agora:") for l in open(in_root("/etc/group"))), "no group agora")
    # the data is the servers': the database setup made and the user registered stay
    expect(_psql(f"SELECT count(*) FROM pg_database WHERE datname = '{S['setup_db']}'") == "1",
           "the database setup created is still there")
    if "user" in S:
        expect(_psql(f"SELECT count(*) FROM users WHERE id = {int(S['user'])}", db="agora") == "1",
               "the user registered through the site is still there")
    print(f"    package: build {S.get('t_build', 0):.0f} s, lintian {S.get('t_lintian', 0):.0f} s, "
          f"root ({S.get('root_from')}, beside the build) {S.get('t_root', 0):.0f} s, "
          f"install {S.get('t_install', 0):.0f} s, start {S.get('t_start', 0):.1f} s, "
          f"purge {S.get('t_purge', 0):.0f} s", flush=True)
    _psql(f"DROP DATABASE IF EXISTS {S['setup_db']}")
    _psql(f"DROP ROLE IF EXISTS {S['setup_db']}")
    if S.pop("made_postgres_role", False):
        _psql("DROP ROLE postgres")
    # half a gigabyte: removed while the suite goes on (the next run's rm -rf of var/test
    # would remove it anyway)
    subprocess.Popen(["rm", "-rf", "--one-file-system", ROOTFS], stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)


# ---- small helpers ------------------------------------------------------------
def _ok(r):
    return r if r.status == 200 else None


def _tcp_open(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _http_ok(url):
    import urllib.request
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


def _proc_user(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("Uid:"):
            uid = int(line.split()[1])
            for l in open(in_root("/etc/passwd")):
                f = l.split(":")
                if int(f[2]) == uid:
                    return f[0]
            return str(uid)
    return None
