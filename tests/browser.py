"""A headless Chromium driven over the DevTools protocol, for the browser test of the built book.

One browser serves every page (starting Chromium is the slow part on two cores); each load
collects what a reader would meet: console errors, uncaught exceptions, failed or external
requests. Chromium is Debian's ``chromium``, installed with apt when missing and possible.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

LOCAL_SCHEMES = ("data", "blob", "about", "chrome", "devtools")


def find_chromium() -> tuple[str | None, str]:
    """Chromium's path, installing Debian's package when missing and apt can run; or None and
    why not."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found, ""
    if shutil.which("apt-get") is None:
        return None, "chromium is not installed and there is no apt-get to install it"
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if sudo and shutil.which("sudo") is None:
        return None, "chromium is not installed and apt-get needs root (no sudo)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            done = subprocess.run([*sudo, *cmd], env=env, capture_output=True, timeout=600)
        except subprocess.TimeoutExpired:
            return None, f"`{' '.join(cmd)}` took over 10 minutes"
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            return None, f"`{' '.join(cmd)}` failed ({tail[0]})"
    found = shutil.which("chromium")
    return found, "" if found else "apt-get installed chromium but it is not on PATH"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports failures itself
        pass


def serve(directory: Path) -> tuple[str, socketserver.TCPServer]:
    """Serve ``directory`` on 127.0.0.1 (a free port) from a thread; returns its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


class Browser:
    """One headless Chromium and one tab, driven over the DevTools protocol."""

    def __init__(self, chromium: str, profile_dir: Path, timeout: float = 60.0):
        import websocket  # websocket-client, in the lock (jupyter's dependency)

        self.timeout = timeout
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
                "--remote-debugging-port=0", "--remote-allow-origins=*",
                f"--user-data-dir={profile_dir}", "--window-size=1280,2000", "about:blank"]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile_dir / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{chromium} did not start (exit {self.proc.poll()})")
            time.sleep(0.2)
        port = port_file.read_text().splitlines()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as r:
            tab = next(t for t in json.load(r) if t["type"] == "page")
        self.ws = websocket.create_connection(
            tab["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True
        )
        self._id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params) -> dict:
        """Send a command and wait for its answer; events meanwhile are kept in ``events``."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def _wait_for(self, event: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e["method"] == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {self.timeout:.0f} s")
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)

    def load(self, url: str) -> list[str]:
        """Open ``url`` and wait for its load event; returns the problems a reader would meet:
        console errors, uncaught exceptions, failed requests and requests leaving the machine."""
        self.events = []
        self.call("Page.navigate", url=url)
        self._wait_for("Page.loadEventFired")
        time.sleep(0.3)  # scripts run after the load event settle
        return problems(self.events, urlsplit(url).netloc)

    def location(self) -> str | None:
        """The page's address, or None while it navigates."""
        try:
            return self.evaluate("location.href")
        except RuntimeError:  # "Inspected target navigated or closed"
            return None

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        res = self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                        returnByValue=True)  # fmt: skip
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression[:60]}...: {res['exceptionDetails'].get('text')}")
        return res["result"].get("value")

    def screenshot(
        self, path: Path, width: int = 1280, height: int = 1400, anchor: str = ""
    ) -> Path:
        """A PNG of what a reader sees at ``width`` x ``height`` CSS pixels, scrolled to the
        element with id ``anchor`` when given."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=width < 800)  # fmt: skip
        if anchor:
            self.evaluate(f"document.getElementById('{anchor}').scrollIntoView()")
        time.sleep(0.3)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        self.call("Emulation.clearDeviceMetricsOverride")
        return path

    def set_width(self, width: int, mobile: bool = False) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=900,
                  deviceScaleFactor=1, mobile=mobile)  # fmt: skip

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def problems(events: list[dict], host: str) -> list[str]:
    """What went wrong during a page load, from DevTools events, one line each."""
    found, urls = [], {}
    for e in events:
        method, p = e["method"], e.get("params", {})
        if method == "Network.requestWillBeSent":
            url = p["request"]["url"]
            urls[p["requestId"]] = url
            parts = urlsplit(url)
            if parts.scheme not in LOCAL_SCHEMES and parts.netloc != host:
                found.append(f"request leaves the machine: {url}")
        elif method == "Network.loadingFailed" and not p.get("canceled"):
            found.append(f"failed to load {urls.get(p['requestId'], '?')}: {p.get('errorText')}")
        elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
            found.append(f"HTTP {p['response']['status']} for {p['response']['url']}")
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            found.append(f"uncaught: {d.get('exception', {}).get('description') or d['text']}")
        elif method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            found.append(f"console.{p['type']}: {text}")
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            found.append(f"console: {p['entry']['text']} ({p['entry'].get('url', '')})")
    return found
