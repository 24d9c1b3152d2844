"""Codex CLI (npm `@openai/codex`, pinned in tests/clients/js) runs a whole turn against the gateway,
configured as a custom model provider as the README shows.

Codex speaks only the Responses API: a streamed request of about 40 KB (two `developer` messages, about
10K tokens with LFM2's tokenizer), `store: false`, `include: ["reasoning.encrypted_content"]`,
`reasoning`, `prompt_cache_key`, `client_metadata`, function tools, a `namespace` tool and a
`web_search` tool. Codex has no way to add `extra_body`, so a small proxy in front of the gateway adds
the forcing field to each request body and passes the stream back unchanged: the first answer is a
call to Codex's own `exec_command` tool, the second (once the tool's output is in the input) a text.
Everything else is Codex talking HTTP to the real gateway.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.integration.forcing import force

pytestmark = pytest.mark.engine

JS = Path(__file__).parent / "js"
CODEX = JS / "node_modules" / ".bin" / "codex"
CALL = '<|tool_call_start|>[exec_command(cmd="echo lfm2-was-here")]<|tool_call_end|>'
ANSWER = "The command printed lfm2-was-here."
CONFIG = """\
model = "tiny"
model_provider = "lfm2"

[model_providers.lfm2]
name = "LFM2 gateway"
base_url = "{base_url}"
wire_api = "responses"
"""


@pytest.fixture(scope="module")
def codex() -> Path:
    if shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed for the Codex CLI test")
    subprocess.run(["bash", str(JS / "install.sh")], check=True, timeout=600)
    return CODEX


@pytest.fixture
def proxy(gateway) -> Iterator[tuple[str, list[dict]]]:
    """The gateway behind a body-forcing proxy; yields its base URL and the request bodies it saw."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            seen.append(body)
            answered = any(i.get("type") == "function_call_output" for i in body.get("input", ()))
            body.update(force(ANSWER if answered else CALL))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "host")}
            with httpx.stream("POST", gateway.base_url + self.path, json=body, headers=headers, timeout=300) as r:
                self.send_response(r.status_code)
                for key, value in r.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.end_headers()
                for chunk in r.iter_raw():
                    self.wfile.write(chunk)
                    self.wfile.flush()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()


def test_codex_exec_runs_a_tool_and_completes_the_turn(codex, proxy, tmp_path):
    base_url, seen = proxy
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "config.toml").write_text(CONFIG.format(base_url=base_url))
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "HOME": str(home), "CODEX_HOME": str(home / ".codex"), "NO_COLOR": "1"}
    done = subprocess.run([str(codex), "exec", "--skip-git-repo-check", "Run echo for me."], cwd=work, env=env,
                          capture_output=True, text=True, timeout=400, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    assert ANSWER in done.stdout
    first, last = seen[0], seen[-1]
    assert first["stream"] is True and first["store"] is False
    assert {t["type"] for t in first["tools"]} >= {"function", "namespace", "web_search"}
    outputs = [i for i in last["input"] if i.get("type") == "function_call_output"]
    calls = [i for i in last["input"] if i.get("type") == "function_call"]
    assert [c["name"] for c in calls] == ["exec_command"]
    assert outputs and outputs[0]["call_id"] == calls[0]["call_id"]
