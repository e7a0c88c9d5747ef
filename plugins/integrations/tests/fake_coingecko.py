#!/usr/bin/env python3
"""A fake CoinGecko for tst_integrations: GET /api/v3/simple/price in CoinGecko's exact format.

Listens on 127.0.0.1 on a free port and prints `PORT <n>` as its first line. Prices are kept as
number TEXT and written verbatim into the reply, so `1.05e-05` or a 24-digit price reaches the
client exactly as configured. Unknown ids and vs currencies are left out, as CoinGecko does.

Control endpoints for the test:
  POST /_fake/config   {"mode": "ok"|"timeout"|"slow"|"429"|"500"|"malformed", "retry_after": 7,
                        "prices": {"bitcoin": {"usd": "67187.33", "gbp": null}}}
                       (prices are number text; null removes one; omitted keys keep their value)
  GET  /_fake/requests [{"path", "query": {...}, "headers": {lower-cased name: value}}]
  POST /_fake/reset    forgets the requests seen
"""
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")

lock = threading.Lock()
state = {"mode": "ok", "retry_after": 7, "prices": {}, "requests": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test prints what it needs
        pass

    def reply(self, status, body=b"", content_type="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, status, value):
        self.reply(status, json.dumps(value).encode())

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/_fake/requests":
            with lock:
                return self.reply_json(200, state["requests"])
        if url.path != "/api/v3/simple/price":
            return self.reply_json(404, {"error": "Not found"})
        query = {k: ",".join(v) for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with lock:
            state["requests"].append({"path": url.path, "query": query,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}})
            mode, retry_after = state["mode"], state["retry_after"]
            prices = {coin: dict(vs) for coin, vs in state["prices"].items()}
        if mode == "timeout":
            time.sleep(120)  # hold the socket, never answer
            return
        if mode == "429":
            body = {"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit."}}
            return self.reply(429, json.dumps(body).encode(), headers=[("Retry-After", str(retry_after))])
        if mode == "500":
            return self.reply_json(500, {"error": "Internal Server Error"})
        ids = [i.strip() for i in query.get("ids", "").split(",") if i.strip()]
        vs = [v.strip().lower() for v in query.get("vs_currencies", "").split(",") if v.strip()]
        coins = []
        for coin in ids:
            if coin in prices:
                fields = ",".join('"%s":%s' % (v, prices[coin][v]) for v in vs if v in prices[coin])
                coins.append('"%s":{%s}' % (coin, fields))
        body = ("{" + ",".join(coins) + "}").encode()
        if mode == "malformed":
            body = body[: max(1, len(body) // 2)]
        if mode == "slow":  # a valid reply, but trickled: a space every 0.5 s for 12 s first
            padding = b" " * 24
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(padding) + len(body)))
            self.end_headers()
            try:
                for byte in padding:
                    self.wfile.flush()
                    time.sleep(0.5)
                    self.wfile.write(bytes([byte]))
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should
            return
        self.reply(200, body)

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path == "/_fake/reset":
            with lock:
                state["requests"].clear()
            return self.reply_json(200, {"ok": True})
        if url.path != "/_fake/config":
            return self.reply_json(404, {"error": "Not found"})
        try:
            config = json.loads(raw or b"{}")
            with lock:
                if "mode" in config:
                    if config["mode"] not in ("ok", "timeout", "slow", "429", "500", "malformed"):
                        raise ValueError("unknown mode %r" % config["mode"])
                    state["mode"] = config["mode"]
                if "retry_after" in config:
                    state["retry_after"] = int(config["retry_after"])
                for coin, vs in config.get("prices", {}).items():
                    for currency, text in vs.items():
                        if text is None:  # the coin no longer has a price in this currency
                            state["prices"].get(coin, {}).pop(currency.lower(), None)
                            continue
                        if not isinstance(text, str) or not NUMBER.fullmatch(text):
                            raise ValueError("price %s/%s is not JSON number text: %r" % (coin, currency, text))
                        state["prices"].setdefault(coin, {})[currency.lower()] = text
        except (ValueError, TypeError, AttributeError) as e:
            return self.reply_json(400, {"error": str(e)})
        self.reply_json(200, {"ok": True})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
