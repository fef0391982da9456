"""A small real HTTP server standing in for Slack's Web API (https://slack.com/api/<method>):
it records every call (method, arguments) and answers as Slack would for the methods Tandem
uses. Tests point TANDEM_SLACK_API_URL at it, so the official slack_sdk client really talks
HTTP; and they sign interaction payloads with the signing secret as Slack does."""

import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"


class FakeSlack:
    def __init__(self, users: dict[str, str] | None = None):
        """`users`: e-mail -> Slack user id of the workspace's members."""
        self.users = dict(users or {})
        self.calls: list[tuple[str, dict]] = []
        self._ts = 0
        self._lock = threading.Lock()
        slack = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._answer(urllib.parse.urlsplit(self.path).query)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    self._answer(None, json.loads(body or "{}"))
                else:
                    self._answer(body)

            def _answer(self, query, data=None):
                method = urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[-1]
                if data is None:
                    data = dict(urllib.parse.parse_qsl(query or "", keep_blank_values=True))
                    for key in ("blocks", "view"):
                        if isinstance(data.get(key), str):
                            data[key] = json.loads(data[key])
                answer = slack.answer(method, data)
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FakeSlack":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, method: str, data: dict) -> dict:
        with self._lock:
            self.calls.append((method, data))
            if method == "users.lookupByEmail":
                slack_id = self.users.get(data.get("email", ""))
                if slack_id is None:
                    return {"ok": False, "error": "users_not_found"}
                return {"ok": True, "user": {"id": slack_id}}
            if method == "users.info":
                emails = {v: k for k, v in self.users.items()}
                if data.get("user") not in emails:
                    return {"ok": False, "error": "user_not_found"}
                user = data["user"]
                return {"ok": True, "user": {"id": user, "profile": {"email": emails[user]}}}
            if method == "conversations.open":
                return {"ok": True, "channel": {"id": f"D{data.get('users')}"}}
            if method == "chat.postMessage":
                self._ts += 1
                return {
                    "ok": True,
                    "channel": data.get("channel"),
                    "ts": f"1700000000.{self._ts:06d}",
                }
            if method in ("chat.update", "chat.postEphemeral", "views.open"):
                return {"ok": True}
            return {"ok": False, "error": "unknown_method"}

    def called(self, method: str) -> list[dict]:
        with self._lock:
            return [data for name, data in self.calls if name == method]


def signed_headers(body: bytes, *, secret: str = SIGNING_SECRET, at: int | None = None) -> dict:
    """The headers Slack sends with an interaction: X-Slack-Request-Timestamp and the v0
    HMAC-SHA256 signature of "v0:<timestamp>:<body>"."""
    timestamp = str(int(time.time()) if at is None else at)
    base = f"v0:{timestamp}:{body.decode()}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp, "HTTP_X_SLACK_SIGNATURE": signature}


def interaction_body(payload: dict) -> bytes:
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
