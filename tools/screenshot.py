"""Screenshots of Odoo screens as a logged-in user sees them, in headless Chromium.

    python3 tools/screenshot.py --url http://localhost:8069 --db bank_crm_demo \
        --login admin --password admin [--lang ru_RU] --out .state/screens \
        [--width 1920 --height 1080] /odoo/bank-accounts /odoo/bank-transactions ...

Each path is opened after logging in (the session cookie is given to the browser
through the DevTools protocol), the page is left to render until Odoo's client is
idle, and a PNG is written per path. For looking at what we build, not for tests.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import requests
import websocket

READY_JS = """(() => {
  const busy = document.querySelector('.o_loading_indicator, .o_blockUI');
  const view = document.querySelector('.o_action_manager > .o_action, .o_portal, .o_frontend_to_backend_nav, body > main, .container');
  return !!view && !busy && document.readyState === 'complete';
})()"""


def free_port():
    """A TCP port nobody listens on now (several people may take screenshots on one machine)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    def __init__(self, width=1440, height=900):
        self.profile = tempfile.mkdtemp(prefix="bank_crm_shots_")
        self.port = int(os.environ.get("SCREENSHOT_CDP_PORT") or free_port())  # several people shoot at once
        self.width, self.height = width, height
        binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not binary:
            sys.exit("error: Chromium not found (apt-get install chromium)")
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 20
        while True:
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json", timeout=1))
                page = next(t for t in targets if t["type"] == "page")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.ids = 0
        self.call("Page.enable")
        self.call("Network.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.ids:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def resize(self, width, height):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def evaluate(self, expression):
        """Run JavaScript in the page (promises awaited) and return its value."""
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if answer.get("exceptionDetails"):
            raise RuntimeError(f"JavaScript failed: {answer['exceptionDetails'].get('text')} in {expression[:80]}")
        return answer.get("result", {}).get("value")

    def wait_ready(self, settle=1.5, timeout=30):
        deadline = time.time() + timeout
        time.sleep(1)
        while time.time() < deadline:
            if self.evaluate(READY_JS):
                break
            time.sleep(0.3)
        time.sleep(settle)

    def capture(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def shoot(self, url, path, settle=1.5, timeout=30):
        self.call("Page.navigate", url=url)
        self.wait_ready(settle, timeout)
        self.capture(path)

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def login(base_url, db, login, password, lang=None):
    """A logged-in requests session (the user's language set to `lang` first when given)."""
    session = requests.Session()
    answer = session.post(
        f"{base_url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": db, "login": login, "password": password}},
        timeout=30,
    ).json()
    if answer.get("error"):
        sys.exit(f"error: cannot log in as {login}: {answer['error'].get('message')}")
    if lang:
        uid = answer["result"]["uid"]
        session.post(
            f"{base_url}/web/dataset/call_kw",
            json={
                "jsonrpc": "2.0",
                "params": {"model": "res.users", "method": "write", "args": [[uid], {"lang": lang}], "kwargs": {}},
            },
            timeout=30,
        )
    return session


def session_cookie(base_url, db, login_name, password, lang=None):
    return login(base_url, db, login_name, password, lang).cookies.get("session_id")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="bank_crm_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--lang", default="en_US", help="the user's language, set before the shots (en_US)")
    parser.add_argument("--out", default=".state/screens")
    parser.add_argument("--anonymous", action="store_true", help="do not log in (public pages)")
    parser.add_argument("--width", type=int, default=1440, help="window width (Odoo puts the chatter aside from 1534)")
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    browser = Browser(args.width, args.height)
    try:
        if not args.anonymous:
            cookie = session_cookie(args.url, args.db, args.login, args.password, args.lang)
            browser.call("Network.setCookie", name="session_id", value=cookie, url=args.url)
        for path in args.paths:
            name = (
                path.strip("/").replace("/", "_").replace("?", "_").replace("=", "-").replace("&", "_")[:80] or "home"
            )
            target = out / f"{name}{'_' + args.lang if args.lang != 'en_US' else ''}.png"
            browser.shoot(path if path.startswith("http") else args.url + path, target)
            print(target)
    finally:
        browser.close()


if __name__ == "__main__":
    main()
