#!/usr/bin/python3
# An independent /ws/notifications client (Debian's python3-websockets, not Qt), launched by
# tst_notifications against a running host: usage  ws_client.py ws://host:port/ws/notifications TOKEN
# Connects with ?token=, checks ping -> pong and a binary frame -> error bad_message (socket kept
# open: a second ping is answered), prints READY, then prints the first wallet.updated push it
# receives as one JSON line and exits 0. Anything else: a FAIL line on stderr and exit 1.
import asyncio
import json
import sys
import urllib.parse

import websockets

TIMEOUT = 10


async def expect(ws, wanted):
    """The next message of type `wanted` (earlier pushes of other types are skipped)."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError(f"no {wanted} message within {TIMEOUT} s")
        message = await asyncio.wait_for(ws.recv(), left)
        if not isinstance(message, str):
            raise AssertionError(f"a binary message from the server: {message!r}")
        reply = json.loads(message)
        if reply.get("type") == wanted:
            return reply
        if reply.get("type") in ("pong", "error"):
            raise AssertionError(f"expected {wanted}, got {reply}")


async def main(url, token):
    async with websockets.connect(f"{url}?token={urllib.parse.quote(token)}", open_timeout=TIMEOUT) as ws:
        await ws.send(json.dumps({"command": "ping"}))
        await expect(ws, "pong")
        await ws.send(b"\x00\xffnot text")
        error = await expect(ws, "error")
        if error.get("code") != "bad_message" or not error.get("detail"):
            raise AssertionError(f"a binary frame was answered {error}")
        await ws.send(json.dumps({"command": "ping"}))
        await expect(ws, "pong")
        print("READY", flush=True)
        print(json.dumps(await expect(ws, "wallet.updated")), flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
    except Exception as e:  # noqa: BLE001 - any failure is reported to the C++ side
        print(f"FAIL {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
