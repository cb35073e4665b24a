#!/usr/bin/env python3
"""Load a page in headless Chromium, JavaScript off, optionally with an
Authorization header, and print its DOM: a real browser for the pages the
collector serves, driven over the DevTools protocol (`--dump-dom` cannot
send headers).

    cdp_page.py URL [--bearer TOKEN]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from websockets.sync.client import connect

CHROMIUM = "/usr/bin/chromium"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--bearer")
    args = ap.parse_args()
    # Chromium's helper processes may still be writing as it goes.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        chrome = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            print(dom(profile, args.url, args.bearer))
        finally:
            chrome.kill()
            chrome.wait()


def dom(profile, url, bearer):
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 60
    while not os.path.exists(port_file) or not open(port_file).read().strip():
        if time.time() > deadline:
            sys.exit("chromium did not open its DevTools port")
        time.sleep(0.05)
    port, path = open(port_file).read().split()[:2]
    with connect(f"ws://127.0.0.1:{port}{path}", max_size=64 << 20) as ws:
        ids = iter(range(1, 1 << 30))

        def call(method, session=None, **params):
            n = next(ids)
            msg = {"id": n, "method": method, "params": params}
            if session:
                msg["sessionId"] = session
            ws.send(json.dumps(msg))
            while True:
                m = json.loads(ws.recv(timeout=60))
                if m.get("id") == n:
                    if "error" in m:
                        sys.exit(f"{method}: {m['error']}")
                    return m.get("result", {})
                events.append(m)

        events = []
        target = call("Target.createTarget", url="about:blank")["targetId"]
        s = call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        # Plain HTML must work without JavaScript: it is off.
        call("Emulation.setScriptExecutionDisabled", s, value=True)
        call("Network.enable", s)
        if bearer:
            call("Network.setExtraHTTPHeaders", s, headers={"Authorization": f"Bearer {bearer}"})
        call("Page.enable", s)
        status = {}
        call("Page.navigate", s, url=url)
        deadline = time.time() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in events):
            if time.time() > deadline:
                sys.exit("the page did not load")
            events.append(json.loads(ws.recv(timeout=60)))
        for e in events:
            if e.get("method") == "Network.responseReceived" and e["params"]["type"] == "Document":
                status["code"] = e["params"]["response"]["status"]
        root = call("DOM.getDocument", s)["root"]["nodeId"]
        html = call("DOM.getOuterHTML", s, nodeId=root)["outerHTML"]
        return f"<!-- status {status.get('code')} -->\n{html}"


if __name__ == "__main__":
    main()
