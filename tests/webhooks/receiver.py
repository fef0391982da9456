"""A real HTTP receiver on 127.0.0.1 that verifies Standard Webhooks signatures with the
specification's own library and keeps what it accepted. It can be stopped and started again on
the same port (an outage), and told to answer with another status."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self, secret: str):
        self.webhook = Webhook(secret)
        self.accepted = []  # (webhook-id, parsed body)
        self.refused = []  # why signatures failed
        self.answer = 200
        self.port = 0
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tandem"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.answer != 200:
                    self.send_response(receiver.answer)
                    self.end_headers()
                    return
                try:
                    payload = receiver.webhook.verify(body, dict(self.headers))
                except WebhookVerificationError as error:
                    receiver.refused.append(str(error))
                    self.send_response(400)
                    self.end_headers()
                    return
                receiver.accepted.append((self.headers["webhook-id"], payload))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._server = None
