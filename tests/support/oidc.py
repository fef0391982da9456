"""A real OpenID Connect provider for the tests: tests/support/oidc_provider.mjs (the
`oidc-provider` npm package, installed by `make install` from package.json) run by node as a
separate process on a free port, stopped (only it) when the test module ends. If it cannot
start, the tests that need it fail: they never skip."""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPT = BASE_DIR / "tests" / "support" / "oidc_provider.mjs"
CLIENT_ID = "tandem"
CLIENT_SECRET = "tandem-test-client-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
PROVIDER_ID = "company"
CALLBACK_PATH = f"/auth/oidc/{PROVIDER_ID}/login/callback/"
SCOPES = ["openid", "profile", "email", "groups"]
START_TIMEOUT = 30


def node_binary() -> str:
    for candidate in (shutil.which("node"), BASE_DIR / ".venv" / "bin" / "node"):
        if candidate and Path(candidate).exists():
            return str(candidate)
    pytest.fail("node is missing: run `make install` (it installs the npm packages the tests use)")


class OidcProvider:
    """The provider process and its users (a JSON file it reads at every sign-in)."""

    def __init__(self, directory: Path, *, site_urls, users: dict):
        self.config_path = directory / "oidc-provider.json"
        self.users = {sub: dict(claims) for sub, claims in users.items()}
        site_urls = list(site_urls)
        self.client = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [urljoin(url, CALLBACK_PATH) for url in site_urls],
            "backchannel_logout_uri": urljoin(
                site_urls[0], f"/auth/oidc/{PROVIDER_ID}/backchannel-logout/"
            ),
        }
        self._write()
        self.process: subprocess.Popen | None = None
        self.issuer = ""

    def _write(self):
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"client": self.client, "users": self.users}))
        tmp.replace(self.config_path)  # the provider never reads a half-written file

    def set_claims(self, sub: str, **claims):
        """Changes a user at the provider: their next sign-in carries these claims."""
        self.users[sub].update(claims)
        self._write()

    def start(self):
        if not (BASE_DIR / "node_modules" / "oidc-provider").is_dir():
            pytest.fail("node_modules/oidc-provider is missing: run `make install` (npm ci)")
        self.log_path = self.config_path.with_name("oidc-provider.log")
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [node_binary(), str(SCRIPT), str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=BASE_DIR,
                env={**os.environ, "NODE_ENV": "test"},
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            ready = re.search(r"^OIDC_PROVIDER_READY (\S+)$", self.log(), re.MULTILINE)
            if ready:
                self.issuer = ready.group(1)
                return self
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the OpenID provider did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def settings(self) -> dict:
        """SOCIALACCOUNT_PROVIDERS for Tandem, as settings/base.py makes it from the
        environment."""
        return {
            "openid_connect": {
                "APPS": [
                    {
                        "provider_id": PROVIDER_ID,
                        "name": "Example Corp",
                        "client_id": CLIENT_ID,
                        "secret": CLIENT_SECRET,
                        "settings": {
                            "server_url": self.issuer,
                            "scope": SCOPES,
                            "oauth_pkce_enabled": True,
                        },
                    }
                ]
            }
        }

    def logout_token(self, sub: str, *, audience: str = CLIENT_ID) -> str:
        """A back-channel logout token for `sub`, signed with the provider's own key."""
        response = requests.get(
            f"{self.issuer}/test/logout-token", params={"sub": sub, "aud": audience}, timeout=10
        )
        response.raise_for_status()
        return response.text

    def sign_in(self, client, sub: str, *, next_url: str = "") -> "requests.Response":
        """Signs in through the provider's own pages with Django's test client on Tandem's
        side and a browser-like session on the provider's; returns Tandem's last response."""
        data = {"process": "login", **({"next": next_url} if next_url else {})}
        response = client.post(f"/auth/oidc/{PROVIDER_ID}/login/", data)
        assert response.status_code == 302, response.content[:500]
        browser = requests.Session()
        page = browser.get(response["Location"], timeout=10)
        page.raise_for_status()
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
        assert action, page.text[:1000]
        answer = browser.post(
            urljoin(page.url, action.group(1)),
            data={"prompt": "login", "login": sub, "password": "any"},
            allow_redirects=False,
            timeout=10,
        )
        for _ in range(10):
            location = answer.headers.get("Location", "")
            assert answer.status_code in (302, 303), answer.text[:1000]
            if location.startswith("http://testserver/"):
                parts = urlsplit(location)
                return client.get(f"{parts.path}?{parts.query}")
            answer = browser.get(urljoin(answer.url, location), allow_redirects=False, timeout=10)
        raise AssertionError("the provider never sent the browser back to Tandem")
