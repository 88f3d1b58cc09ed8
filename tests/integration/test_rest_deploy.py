"""How operators deploy the API: the vhost passes apache2 -t as rendered, and the
same agora.fcgi binary serves a request as plain CGI (hosts with only mod_cgi)."""
import json
import os
import subprocess

from agora_test import BUILD, ROOT, VAR, expect, register


def test_rendered_apache_config_passes_configtest():
    conf = os.path.join(VAR, "apache", "httpd.conf")
    r = subprocess.run(["apache2", "-t", "-f", conf], capture_output=True, text=True)
    expect(r.returncode == 0 and "Syntax OK" in r.stderr, r.stderr)
    vhost = open(os.path.join(VAR, "apache", "agora-vhost.conf")).read()
    import re
    expect(not re.search(r"@[A-Z_]+@", vhost), "every placeholder rendered")
    tmpl = open(os.path.join(ROOT, "apache", "agora-vhost.conf.in")).read()
    proxies = [l for l in tmpl.splitlines() if l.strip().startswith("ProxyPass")]
    expect(proxies and not any("enablereuse" in l for l in proxies), "no connection reuse to libfcgi")


def _cgi(method, uri, body=b"", headers=None):
    env = dict(os.environ, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD=method, REQUEST_URI=uri,
               QUERY_STRING=uri.partition("?")[2], SERVER_PROTOCOL="HTTP/1.1", REMOTE_ADDR="127.0.9.9",
               CONTENT_LENGTH=str(len(body)), CONTENT_TYPE="application/json" if body else "")
    env.update(headers or {})
    r = subprocess.run([os.path.join(BUILD, "fcgi", "agora.fcgi")], input=body, env=env,
                       capture_output=True, timeout=20)
    head, _, payload = r.stdout.partition(b"\r\n\r\n")
    status = int(head.split(b"\r\n")[0].split()[1])
    return status, head.decode(), json.loads(payload) if payload else None


def test_fcgi_binary_serves_plain_cgi():
    status, head, body = _cgi("GET", "/api/v1/health")
    expect(status == 200 and body["status"] == "ok", (status, body))
    expect("Content-Type: application/json" in head, head)
    u, tok = register()
    status, _, body = _cgi("GET", f"/api/v1/users/{u['id']}", headers={"HTTP_AUTHORIZATION": "Bearer " + tok})
    expect(status == 200 and body["username"] == u["username"], (status, body))
    status, _, body = _cgi("POST", "/api/v1/auth/login",
                           json.dumps({"username": u["username"], "password": "password123"}).encode())
    expect(status == 200 and body["token"], (status, body))


def test_fcgi_started_while_nats_is_unreachable_answers_503_at_once():
    """A worker that starts with NATS down must come up and answer (health 503 naming
    nats; reads served), not block in its connect until NATS appears."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]    # a port nobody listens on
    s.close()
    env = {"AGORA_NATS_PORT": str(dead), "AGORA_NATS_URLS": ""}
    try:
        status, _, body = _cgi("GET", "/api/v1/health", headers=env)
    except subprocess.TimeoutExpired:
        raise AssertionError("agora.fcgi hung in its NATS connect with NATS unreachable")
    expect(status == 503 and body["checks"]["nats"] != "ok" and body["checks"]["postgres"] == "ok",
           (status, body))


def test_every_migration_is_installed_and_shipped():
    """make install and the Debian package take sql/ from Makefile.am's list: a new
    migration missing there would never reach an installed host (it happened)."""
    import re
    mk = open(os.path.join(ROOT, "Makefile.am")).read()
    m = re.search(r"dist_sql_DATA\s*=\s*((?:[^\n]*\\\n)*[^\n]*)", mk)
    listed = set(re.findall(r"sql/(\S+\.sql)", m.group(1) if m else ""))
    present = {f for f in os.listdir(os.path.join(ROOT, "sql")) if f.endswith(".sql")}
    expect(listed == present, f"sql/ and dist_sql_DATA differ: missing {sorted(present - listed)}, "
                              f"extra {sorted(listed - present)}")
