#!/usr/bin/python3
"""Drives a running headless Chromium through its DevTools protocol, for the
web page's integration test (tests/integration/web_page_test.cpp).

    devtools.py PROFILE_DIR URL STEPS_JSON

Chromium must run with --remote-debugging-port=0 and --user-data-dir=PROFILE_DIR
(it writes the port it took to PROFILE_DIR/DevToolsActivePort). Opens URL in
the first page target, waits for it to load, then evaluates each JavaScript
expression of the STEPS_JSON list in turn (promises awaited), each after a
wait of 1 s so that the page's requests finish; prints a JSON list of the
values. Standard library only (a minimal WebSocket client: text frames,
client-side masking). Exits non-zero with a message on any failure; every
wait is bounded.
"""

import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.request

TIMEOUT_S = 20


def devtools_port(profile):
    path = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            time.sleep(0.1)
    sys.exit("no DevToolsActivePort in " + profile)


class WebSocket:
    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._read()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            sys.exit("DevTools refused the WebSocket: " + head.decode(errors="replace"))

    def _read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            sys.exit("DevTools closed the connection")
        self.buf += chunk

    def _need(self, n):
        while len(self.buf) < n:
            self._read()

    def send(self, obj):
        data = json.dumps(obj).encode()
        n = len(data)
        if n < 126:
            header = bytes([0x81, 0x80 | n])
        elif n < 65536:
            header = bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
        else:
            header = bytes([0x81, 0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def receive(self):
        self._need(2)
        n = self.buf[1] & 0x7F
        offset = 2
        if n == 126:
            self._need(4)
            n = struct.unpack(">H", self.buf[2:4])[0]
            offset = 4
        elif n == 127:
            self._need(10)
            n = struct.unpack(">Q", self.buf[2:10])[0]
            offset = 10
        self._need(offset + n)
        data = self.buf[offset:offset + n]
        self.buf = self.buf[offset + n:]
        return json.loads(data)


class Session:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    def call(self, method, params=None):
        self.next_id += 1
        self.ws.send({"id": self.next_id, "method": method, "params": params or {}})
        while True:
            message = self.ws.receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    sys.exit("%s failed: %s" % (method, message["error"]))
                return message.get("result", {})


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: devtools.py PROFILE_DIR URL STEPS_JSON")
    profile, url, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    port = devtools_port(profile)
    with urllib.request.urlopen("http://127.0.0.1:%d/json" % port, timeout=TIMEOUT_S) as r:
        targets = json.load(r)
    pages = [t for t in targets if t.get("type") == "page"]
    if not pages:
        sys.exit("Chromium has no page target")
    address = pages[0]["webSocketDebuggerUrl"]
    session = Session(WebSocket(port, address.split(str(port), 1)[1]))
    session.call("Page.navigate", {"url": url})
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        state = session.call("Runtime.evaluate", {"expression": "document.readyState",
                                                  "returnByValue": True})
        if state.get("result", {}).get("value") == "complete":
            break
        if time.monotonic() > deadline:
            sys.exit("the page did not load within %d s" % TIMEOUT_S)
        time.sleep(0.1)
    values = []
    for step in steps:
        time.sleep(1)
        result = session.call("Runtime.evaluate", {"expression": step, "awaitPromise": True,
                                                   "returnByValue": True})
        if "exceptionDetails" in result:
            sys.exit("step %r threw: %s" % (step, result["exceptionDetails"]))
        values.append(result.get("result", {}).get("value"))
    print(json.dumps(values))


if __name__ == "__main__":
    main()
