"""A small Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (stdlib only).

Chromium reads NUL-terminated JSON commands on its file descriptor 3 and writes answers and
events on descriptor 4, so no WebSocket library is needed. Used by ``scripts/screenshots`` to
sign in to Redmine (a real session), fill forms for illustration and capture pages as PNG.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=id")


class BrowserError(RuntimeError):
    """Chromium answered with an error, went away, or an event did not come in time."""


class Browser:
    """One headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        binary = shutil.which("chromium")
        if binary is None:
            raise BrowserError("Chromium is required: apt-get install chromium")
        self.profile = tempfile.mkdtemp(prefix="sop-screenshots-")
        to_child, self._to_browser = os.pipe()
        self._from_browser, from_child = os.pipe()

        def plumb() -> None:  # in the child: its fd 3 reads commands, fd 4 writes answers
            commands, answers = os.dup(to_child), os.dup(from_child)
            os.dup2(commands, 3)
            os.dup2(answers, 4)

        self.process = subprocess.Popen(
            [binary, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
             "about:blank"], preexec_fn=plumb, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buffer, self._events, self._next_id = b"", [], 0
        self.width, self.height = width, height
        page = next(t for t in self.call("Target.getTargets")["targetInfos"]
                    if t["type"] == "page")
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": page["targetId"], "flatten": True})["sessionId"]
        self.page("Page.enable")
        self.resize(height)

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 60) -> dict[str, Any]:
        """Send one command and return its result; events met meanwhile are kept."""
        self._next_id += 1
        ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline, method)
            if answer.get("id") == ident:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            self._events.append(answer)

    def page(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command to the page's session."""
        return self.call(method, params, self.session)

    def wait_event(self, name: str, timeout: float = 60) -> dict[str, Any]:
        """The first event called ``name`` (already received, or the next ones)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self._events:
                if event.get("method") == name:
                    self._events.remove(event)
                    return event
            self._events.append(self._receive(deadline, name))

    def goto(self, url: str) -> None:
        """Open ``url`` and wait until the page has loaded."""
        self._events.clear()
        self.page("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def run(self, script: str, *, navigates: bool = False) -> Any:
        """Evaluate JavaScript in the page; with ``navigates``, wait for the next page."""
        self._events.clear()
        result = self.page("Runtime.evaluate", {"expression": script, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        if navigates:
            self.wait_event("Page.loadEventFired")
        return result.get("result", {}).get("value")

    def resize(self, height: int) -> None:
        self.page("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": height, "deviceScaleFactor": 1,
                   "mobile": False})

    def clear_cookies(self) -> None:
        """Forget every session (sign out everyone)."""
        self.call("Storage.clearCookies")

    def screenshot(self, path: Path, *, max_height: int = 2400) -> Path:
        """Capture the whole page (up to ``max_height`` CSS pixels) as PNG."""
        content = self.page("Page.getLayoutMetrics")["cssContentSize"]
        self.resize(max(self.height, min(int(content["height"]), max_height)))
        time.sleep(0.3)  # let the new size lay out before capturing
        shot = self.page("Page.captureScreenshot", {"format": "png"})
        self.resize(self.height)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError(f"no answer from Chromium for {waiting_for}")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(message))
