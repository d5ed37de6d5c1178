"""A real OpenAI-compatible chat server on 127.0.0.1: it answers from a script and records
every request. The tests use it, and so does `f2f gpu-check` for its end-to-end edit (no network).

It speaks `POST /v1/chat/completions` (and `GET /v1/models`) over real HTTP, so the code
under test runs its real `openai` client, in this process or in a subprocess (the CLI).

    from f2f_lab.testing.openai_server import error, openai_server, stall

    with openai_server("The cat slowly yawns.", error(500), stall(5.0)) as server:
        client = VLMClient(base_url=server.base_url)   # http://127.0.0.1:PORT/v1
        ...
    request = server.requests[0]
    request.model, request.roles, request.texts(), request.images()   # images decoded to PIL

Each request consumes the next script item: a string (the answer), a `Reply` (status,
delay, token counts, or a raw body) or a callable `request -> str | Reply`. When the script
is used up, `default` answers (a string, Reply or callable), else HTTP 500 "script exhausted".

Misbehaving servers, as script items: `not_json()`, `html_page()`, `text_page()`, `json_list()`,
`no_message()` (200 replies that are no chat completion), `echo_authorization()` (the answer,
or an error, quotes the request's Authorization header), `huge_answer(n)`, `control_characters()`
and `hang()` (never answers until the server closes).
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Union

from PIL import Image


@dataclass
class Reply:
    """One scripted answer.

    text: the assistant's message; status: HTTP status (non-2xx sends an OpenAI-style error
    body with `text` as its message); delay: seconds to stall before answering (to provoke
    client timeouts; cut short when the server closes); prompt_tokens / completion_tokens:
    the usage to report (default: word counts of the request's texts and of the answer).
    """

    text: str = ""
    status: int = 200
    delay: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None  # sent as the body instead of a chat completion (with `content_type`)
    content_type: str = "application/json"


def error(status: int = 500, message: str = "scripted server error") -> Reply:
    """An HTTP error reply. `x-should-retry: false` keeps the openai client from retrying it;
    pass `Reply(status=..., text=...)` yourself to let the client's own retries run."""
    return Reply(text=message, status=status, headers={"x-should-retry": "false"})


def stall(seconds: float, text: str = "") -> Reply:
    """Answer `text` only after `seconds` (longer than the client's timeout: a timeout)."""
    return Reply(text=text, delay=seconds)


def raw(body: str, content_type: str = "application/json", status: int = 200) -> Reply:
    """A reply whose body is `body` as it is: not a chat completion (a proxy's page, a broken server)."""
    return Reply(raw=body, content_type=content_type, status=status, headers={"x-should-retry": "false"})


def not_json() -> Reply:
    """A 200 reply that claims JSON but is not."""
    return raw('{"choices": [{"message": ', "application/json")


def html_page() -> Reply:
    """A 200 HTML page, as a web app or a proxy's login page answers any path."""
    return raw("<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Welcome</h1></body></html>",
               "text/html; charset=utf-8")


def text_page() -> Reply:
    """A 200 plain-text reply."""
    return raw("OK", "text/plain")


def json_list() -> Reply:
    """A 200 reply that is a JSON list."""
    return raw('[{"message": {"content": "The selected edit is:1"}}]')


def no_message() -> Reply:
    """A 200 chat completion whose choice has no message."""
    return raw(json.dumps({"id": "chatcmpl-broken", "object": "chat.completion", "created": 0, "model": "test",
                           "choices": [{"index": 0, "finish_reason": "stop"}]}))


def echo_authorization(status: int = 200) -> Callable[["RecordedRequest"], Reply]:
    """The answer (or, with an error status, the error message) quotes the request's Authorization header."""
    def answer(request: "RecordedRequest") -> Reply:
        text = f"Authorization: {request.headers.get('authorization', '')} (echoed). The selected edit is:1"
        if status >= 400:
            return error(status, text)
        return Reply(text=text)
    return answer


def huge_answer(chars: int = 6_000_000, text: str = "The cat slowly yawns") -> Reply:
    """An answer of `chars` characters: `text` repeated with no sentence end."""
    return Reply(text=(text + " ") * (chars // (len(text) + 1) + 1))


def control_characters(text: str = "The cat\x00 slowly \u202eyawns\x1b[31m wide.\x07") -> Reply:
    """An answer with NUL, an RTL override, an escape sequence and a bell in it."""
    return Reply(text=text)


def hang() -> Reply:
    """Never answer (until the server closes): a client's timeout ends the call."""
    return Reply(delay=24 * 3600.0)


ScriptItem = Union[str, Reply, Callable[["RecordedRequest"], Union[str, Reply]]]


@dataclass
class RecordedRequest:
    """What the server received: method, path, headers (lower-cased names) and JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def model(self) -> str | None:
        return self.body.get("model")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def roles(self) -> list[str]:
        return [m.get("role") for m in self.messages]

    def parts(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """A message's content as a list of parts (a plain string becomes one text part)."""
        content = message.get("content")
        if isinstance(content, str):
            return [{"type": "text", "text": content}]
        return list(content or [])

    def texts(self, message: int | None = None) -> list[str]:
        """Text parts, in order, of one message (by position) or of all of them."""
        messages = self.messages if message is None else [self.messages[message]]
        return [p["text"] for m in messages for p in self.parts(m) if p.get("type") == "text"]

    def image_urls(self, message: int | None = None) -> list[str]:
        messages = self.messages if message is None else [self.messages[message]]
        return [p["image_url"]["url"] for m in messages for p in self.parts(m) if p.get("type") == "image_url"]

    def images(self, message: int | None = None) -> list[Image.Image]:
        """Image parts decoded from their base64 data URLs (raises on any other kind of URL)."""
        images = []
        for url in self.image_urls(message):
            header, _, payload = url.partition(",")
            if not (header.startswith("data:image/") and header.endswith(";base64")):
                raise AssertionError(f"not a base64 image data URL: {url[:60]}")
            image = Image.open(io.BytesIO(base64.b64decode(payload)))
            image.load()
            images.append(image)
        return images


class OpenAIServer:
    """The server; use `openai_server(...)` for a started one inside a `with` block."""

    def __init__(self, script: tuple[ScriptItem, ...] | list[ScriptItem] = (), *, default: ScriptItem | None = None):
        self.requests: list[RecordedRequest] = []
        self.default = default
        self._script: deque[ScriptItem] = deque(script)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """What to give the client as base_url: http://127.0.0.1:PORT/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def push(self, *items: ScriptItem) -> None:
        """Append answers to the script."""
        with self._lock:
            self._script.extend(items)

    def start(self) -> "OpenAIServer":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True  # a stalled handler never blocks close()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="openai-test-server", daemon=True
        )  # a short poll makes close() quick
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # releases stalled handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "OpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            item = self._script.popleft() if self._script else self.default
        if item is None:
            return Reply(text="script exhausted", status=500, headers={"x-should-retry": "false"})
        if callable(item):
            item = item(request)
        return Reply(text=item) if isinstance(item, str) else item

    def _completion(self, request: RecordedRequest, reply: Reply, number: int) -> dict[str, Any]:
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = sum(len(t.split()) for t in request.texts())
        completion = reply.completion_tokens if reply.completion_tokens is not None else len(reply.text.split())
        return {
            "id": f"chatcmpl-test-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model or "unknown",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": "stop",
                "logprobs": None,
            }],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }


def _handler_for(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the openai client expects

        def log_message(self, format, *args):  # quiet: tests read server.requests instead
            pass

        def _send_json(self, status: int, payload: dict[str, Any] | str, headers: dict[str, str] | None = None,
                       content_type: str = "application/json") -> None:
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to tell it

        def do_GET(self):
            if self.path.rstrip("/").endswith("/models"):
                self._send_json(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})
            else:
                self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            request = RecordedRequest(
                method="POST", path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body
            )
            reply = server._next_reply(request)
            if reply.delay:
                server._closing.wait(reply.delay)
            if reply.raw is not None:
                self._send_json(reply.status, reply.raw, reply.headers, reply.content_type)
                return
            if reply.status >= 400:
                payload = {"error": {"message": reply.text, "type": "server_error", "code": reply.status}}
            else:
                payload = server._completion(request, reply, len(server.requests))
            self._send_json(reply.status, payload, reply.headers)

    return Handler


@contextmanager
def openai_server(*script: ScriptItem, default: ScriptItem | None = None) -> Iterator[OpenAIServer]:
    """A started `OpenAIServer` answering `script` in order; closed on leaving the block."""
    server = OpenAIServer(script, default=default).start()
    try:
        yield server
    finally:
        server.close()
