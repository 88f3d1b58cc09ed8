"""The web client (issue 7) in a real browser: Apache serves web/dist with
the single-page-app fallback and its headers, and tests/e2e/two_users.mjs
(playwright-core driving Debian's chromium, headless) plays two people in two
browser contexts; tests/e2e/two_devices.mjs plays one person on two devices
and another person (unread counts, levels, blocks: issue 16). Each browser
script runs once; each of its scenarios is one test here, so the counts are
honest. Screenshots of failures go to tests/e2e/output/."""
import http.client
import json
import os
import shutil
import subprocess

import agora_test as at
from agora_test import Skip, expect

E2E = os.path.join(at.ROOT, "tests", "e2e")
WEB = os.path.join(at.ROOT, "web")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
_run = {}


def _get(path):
    c = http.client.HTTPConnection("127.0.0.1", at.HTTP_PORT, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def _wsd_reason():
    """None when agora-wsd is built and answering, else why not."""
    wsd = os.path.join(at.BUILD, "wsd", "agora-wsd")
    if not os.path.exists(wsd):
        return f"agora-wsd is not built ({os.path.relpath(wsd, at.ROOT)}): realtime scenarios cannot run"
    try:
        c = http.client.HTTPConnection("127.0.0.1", at.WS_PORT, timeout=5)
        c.request("GET", "/healthz")
        ok = c.getresponse().status == 200
        c.close()
    except OSError as e:
        return f"agora-wsd does not answer on port {at.WS_PORT}: {e}"
    return None if ok else f"agora-wsd /healthz is not 200 on port {at.WS_PORT}"


def _resident_fanout():
    """agora-worker --resident fanout, as cron runs it, for the scenarios that need
    notifications while they wait (the test stack runs no cron loop); a stop function."""
    worker = os.path.join(at.BUILD, "workers", "agora-worker")
    if not os.path.exists(worker):
        return lambda: None
    log = open(os.path.join(at.VAR, "logs", "e2e-resident-fanout.log"), "ab")
    p = subprocess.Popen([worker, "--resident", "fanout"], stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL)
    log.close()

    def stop():
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return stop


def _browser_run(script="two_users.mjs", resident=False):
    """Run a browser script once; returns {scenario: (status, detail)}."""
    if script in _run:
        return _run[script]
    _run[script] = _run_script(script, resident)
    return _run[script]


def _run_script(script, resident):
    problems = []
    if not os.path.exists(os.path.join(WEB, "dist", "index.html")):
        problems.append("web/dist/index.html is missing: ./agora did not build the web client")
    if not os.path.exists(os.path.join(WEB, "node_modules", "playwright-core")):
        problems.append("web/node_modules/playwright-core is missing: ./agora did not run npm ci in web/")
    if not os.path.exists(CHROMIUM):
        problems.append(f"{CHROMIUM} is missing: the chromium package is not installed")
    if not shutil.which("node"):
        problems.append("node is not installed")
    if problems:
        return {"__error__": ("fail", "; ".join(problems))}
    env = dict(os.environ)
    reason = _wsd_reason()
    if reason:
        env["E2E_REALTIME"] = "0"
        env["E2E_REALTIME_REASON"] = reason
    base = f"http://127.0.0.1:{at.HTTP_PORT}"
    stop = _resident_fanout() if resident and not reason else (lambda: None)
    try:
        p = subprocess.run(["node", os.path.join(E2E, script), base], env=env,
                           capture_output=True, text=True, timeout=900, cwd=at.ROOT)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out, err, rc = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), \
            "timed out after 900 s", -1
    finally:
        stop()
    results = {}
    for line in out.splitlines():
        if line.startswith("E2E "):
            r = json.loads(line[4:])
            results[r["name"]] = (r["status"], r.get("detail", ""))
    if rc != 0:
        results["__crash__"] = ("fail", f"node exited {rc}: {err[-3000:]}")
    if err.strip():
        print(f"    {script} stderr (tail):")
        print("".join("      " + l + "\n" for l in err.strip().splitlines()[-20:]), end="")
    return results


def _scenario(name, script="two_users.mjs", resident=False):
    results = _browser_run(script, resident)
    if "__error__" in results:
        raise AssertionError(results["__error__"][1])
    if name not in results:
        crash = results.get("__crash__", ("", "no report"))[1]
        raise AssertionError(f"browser scenario {name} did not report: {crash}")
    status, detail = results[name]
    if status == "skip":
        raise Skip(detail)
    expect(status == "pass", f"browser scenario {name}: {detail}")


# ---- Apache serves the client ------------------------------------------------
def test_web_served_with_spa_fallback_and_headers():
    if not os.path.exists(os.path.join(WEB, "dist", "index.html")):
        raise AssertionError("web/dist/index.html is missing: ./agora did not build the web client")
    status, h, body = _get("/")
    expect(status == 200 and b'<div id="root">' in body, f"/ is not the web client: {status} {body[:200]!r}")
    csp = h.get("content-security-policy", "")
    expect("default-src 'self'" in csp and f"ws://127.0.0.1:{at.HTTP_PORT}" in csp,
           f"CSP missing or without the socket's origin: {csp!r}")
    expect(h.get("cache-control") == "no-cache", f"index.html Cache-Control: {h.get('cache-control')!r}")
    # a deep link (reload on a channel) gets the same page
    status, _, deep = _get("/c/12345")
    expect(status == 200 and deep == body, f"/c/12345 does not fall back to index.html: {status}")
    # hashed assets are cached for good
    import re
    m = re.search(rb'src="(/assets/[^"]+\.js)"', body)
    expect(m, "no script in index.html")
    status, h, _ = _get(m.group(1).decode())
    expect(status == 200 and "immutable" in h.get("cache-control", ""), f"asset: {status} {h.get('cache-control')!r}")
    # the APIs are not swallowed by the fallback
    status, h, b = _get("/api/v1/no-such-thing")
    expect(status == 404 and b.startswith(b"{"), f"/api/v1 unknown path: {status} {b[:100]!r}")
    status, _, b = _get("/graphql/schema.graphql")
    expect(status == 200 and b"type Query" in b, f"schema: {status}")


# ---- the browser scenarios (tests/e2e/two_users.mjs) -------------------------
def test_web_e2e_signup_signin():
    _scenario("signup_signin")


def test_web_e2e_create_channel_and_invite():
    _scenario("create_channel_and_invite")


def test_web_e2e_live_post():
    _scenario("live_post")


def test_web_e2e_typing_indicator():
    _scenario("typing_indicator")


def test_web_e2e_keyboard_composer_and_channel_list():
    _scenario("keyboard_composer_and_channel_list")


def test_web_e2e_comment_and_reply():
    _scenario("comment_and_reply")


def test_web_e2e_mention_completion():
    _scenario("mention_completion")


def test_web_e2e_mention_notification_badge():
    _scenario("mention_notification_badge")


def test_web_e2e_follow_notification_badge():
    _scenario("follow_notification_badge")


def test_web_e2e_direct_message():
    _scenario("direct_message")


def test_web_e2e_unread_count():
    _scenario("unread_count")


def test_web_e2e_infinite_scroll():
    _scenario("infinite_scroll")


def test_web_e2e_reload_stays_signed_in():
    _scenario("reload_stays_signed_in")


def test_web_e2e_search():
    _scenario("search")


def test_web_e2e_reconnect_after_wsd_restart():
    _scenario("reconnect_after_wsd_restart")


def test_web_e2e_reactions_live():
    _scenario("reactions_live")


def test_web_e2e_edit_and_delete_comment_live():
    _scenario("edit_and_delete_comment_live")


def test_web_e2e_image_post_live():
    _scenario("image_post_live")


def test_web_e2e_avatar():
    _scenario("avatar")


def test_web_e2e_sign_out():
    _scenario("sign_out")


def test_web_e2e_no_console_errors():
    _scenario("no_console_errors")


def test_web_e2e_every_scenario_reported():
    results = _browser_run()
    crash = results.get("__crash__")
    expect(crash is None, crash[1] if crash else "")


# ---- one person on two devices, and another person (issue 16: tests/e2e/two_devices.mjs,
# with the fanout job resident as cron runs it) --------------------------------------------
def _device(name):
    _scenario(name, "two_devices.mjs", resident=True)


def test_web_e2e_two_devices_setup():
    _device("two_devices_setup")


def test_web_e2e_two_devices_mention_raises_unread_and_mentions_on_both():
    _device("two_devices_mention_raises_unread_and_mentions_on_both")


def test_web_e2e_two_devices_reading_on_one_clears_both():
    _device("two_devices_reading_on_one_clears_both")


def test_web_e2e_two_devices_level_none_silences():
    _device("two_devices_level_none_silences")


def test_web_e2e_two_devices_block_refuses_dms():
    _device("two_devices_block_refuses_dms")


def test_web_e2e_two_devices_no_console_errors():
    _device("two_devices_no_console_errors")


def test_web_e2e_two_devices_every_scenario_reported():
    results = _browser_run("two_devices.mjs", True)
    crash = results.get("__crash__")
    expect(crash is None, crash[1] if crash else "")
