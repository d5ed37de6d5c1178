"""One chat client for the paper's two VLM steps (captions, B.1; frame selection, C.1).

The paper uses GPT-4o. Any server that speaks OpenAI's chat-completions protocol works the
same way: OpenAI itself, or a local vLLM, Ollama or LM Studio serving a vision model such
as Qwen2.5-VL, selected by `base_url` (or `OPENAI_BASE_URL`). Images travel inside the
request as base64 data URLs, so nothing has to be uploaded elsewhere first.

    client = VLMClient()                                   # gpt-4o, key from OPENAI_API_KEY
    client = VLMClient("Qwen/Qwen2.5-VL-7B-Instruct", base_url="http://localhost:8000/v1")
    reply = client.chat([user_turn("What is this?", [image])])
    reply.text, reply.record    # the answer; model, latency and token counts (never the key)

A VLM that runs inside this process through transformers (no key, no server) is
`vlm.local.LocalVLM`, behind the same `chat`/`describe` interface; `vlm.make_vlm_client`
builds either by backend name.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Sequence
from urllib.parse import urlsplit, urlunsplit

from PIL import Image

from ..errors import F2FError
from ..imaging import image_data_url  # noqa: F401  (one encoder for the package; re-exported for callers)

DEFAULT_MODEL = "gpt-4o"  # the paper's VLM
OPENAI_URL = "https://api.openai.com/v1"
# Local servers ignore the key, but the openai client insists on having one.
LOCAL_PLACEHOLDER_KEY = "not-needed"

NO_VLM_MESSAGE = (
    "No VLM is configured: set OPENAI_API_KEY (OpenAI's GPT-4o, as in the paper) or OPENAI_BASE_URL "
    "(a local OpenAI-compatible server such as vLLM, Ollama or LM Studio; the CLI's --vlm-base-url does the same), "
    "or run an open VLM in this process with no key and no server: --preset open (Qwen2.5-VL-7B on a GPU), "
    "or --vlm local with any preset (in Python: Frame2Frame.from_preset(\"open\")). "
    "To run without any VLM, use --captioner template --selector clip "
    "(in Python: captioner=\"template\", selector=\"clip\")."
)


class VLMError(F2FError):
    """A VLM call failed (unreachable server, timeout, HTTP error, unusable answer)."""


# How much of one answer a run record keeps, and a message quotes (the full answer stays in memory for parsing).
MAX_KEPT_ANSWER = 2000
REDACTED = "[redacted]"
# A bearer token anywhere in text a server sent ("Authorization: Bearer sk-...", an echoed header).
_BEARER = re.compile(r"(?i)\bbearer\s+[^\s\"',;}\]]+")
# Control characters that must not reach a caption, a record or a terminal: C0 but tab and newline,
# DEL and C1, and the Unicode bidirectional overrides, embeddings, isolates and marks (RTL override...).
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # a terminal's colour or cursor command
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def strip_control(text: str) -> str:
    """`text` without control characters (NUL, escape sequences, RTL overrides...); tabs and newlines stay."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with each secret's value and any bearer token replaced by "[redacted]"."""
    text = _BEARER.sub("Bearer " + REDACTED, str(text))
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    return text


def kept_answer(text: str | None, limit: int = MAX_KEPT_ANSWER) -> str:
    """An answer as a record keeps it: control characters stripped, at most `limit` characters
    (a longer one is cut and says how long it was)."""
    text = strip_control(text or "")
    if len(text) <= limit:
        return text
    return text[:limit] + f" [... cut: the answer had {len(text):,} characters]"


def decode_data_url(url: str) -> Image.Image:
    """The image inside a base64 data URL (the inverse of `image_data_url`)."""
    header, _, payload = url.partition(",")
    if not header.startswith("data:image/") or ";base64" not in header:
        raise ValueError(f"not a base64 image data URL: {url[:40]}...")
    image = Image.open(io.BytesIO(base64.b64decode(payload)))
    image.load()
    return image


def user_turn(text: str, images: Sequence[Image.Image] = (), **image_options) -> dict[str, Any]:
    """A user message: the text first, then each image as a data URL (text only when no images)."""
    if not images:
        return {"role": "user", "content": text}
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for image in images:
        content.append({"type": "image_url", "image_url": {"url": image_data_url(image, **image_options)}})
    return {"role": "user", "content": content}


def assistant_turn(text: str) -> dict[str, Any]:
    """An assistant message: what the model "said" (in-context examples, a retried answer)."""
    return {"role": "assistant", "content": text}


def public_url(url: str) -> str:
    """`url` without user, password, query or fragment: safe to write in a run record."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass
class ChatReply:
    """A VLM's answer and what the call cost: `record` holds model, latency and token counts."""

    text: str
    record: dict[str, Any] = field(default_factory=dict)


class VLMClient:
    """A chat-completions client with images, for GPT-4o or any OpenAI-compatible server.

    Args:
        model: the model name the server knows ("gpt-4o" in the paper; for a local server the
            name it serves, e.g. "Qwen/Qwen2.5-VL-7B-Instruct" on vLLM, "qwen2.5vl:7b" on Ollama).
        api_key: defaults to $OPENAI_API_KEY. With a `base_url` and no key, a placeholder is
            sent (local servers do not check it).
        base_url: defaults to $OPENAI_BASE_URL, else OpenAI's API. E.g. "http://localhost:8000/v1".
        timeout: seconds to wait for one answer before giving up on that attempt.
        max_retries: further attempts on timeouts, connection errors, HTTP 408/409/429 and 5xx,
            with the openai client's exponential backoff (0.5 s doubling, up to 8 s; it honours
            Retry-After).
        temperature: sampling temperature; None sends none, i.e. the server's default (the
            paper does not state one).
        max_tokens: cap on the answer's length; None sends none.

    Raises F2FError at construction when neither a key nor a base URL is available, so that a
    run stops before any video model is loaded.
    """

    def __init__(
        self,
        model: str | None = DEFAULT_MODEL,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ):
        api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        if api_key is None and base_url is None:
            raise F2FError(NO_VLM_MESSAGE)
        if api_key is None:
            api_key = LOCAL_PLACEHOLDER_KEY

        import openai

        self.model = model or DEFAULT_MODEL
        self.base_url = base_url or OPENAI_URL
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise F2FError(f"The VLM timeout must be a positive number of seconds (--vlm-timeout); got {timeout!r}.")
        if self.max_retries < 0:
            raise F2FError(f"The VLM retries must be 0 or more (--vlm-retries); got {max_retries!r}.")
        self.temperature = temperature
        self.max_tokens = max_tokens
        self._api_key = api_key  # kept only to redact it from what a server sends back
        self._client = openai.OpenAI(api_key=api_key, base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries)

    def describe(self) -> dict[str, Any]:
        """The client's settings for a run record (no key)."""
        return {
            "model": self.model,
            "base_url": public_url(self.base_url),
            "timeout_s": self.timeout,
            "max_retries": self.max_retries,
            "temperature": self.temperature,
            "max_answer_length": self.max_tokens,  # in tokens; named so the record writer keeps it
        }

    def chat(self, messages: list[dict[str, Any]], *, max_tokens: int | None = None) -> ChatReply:
        """Send `messages` and return the first choice's text, or raise VLMError (max_tokens: this request's cap).

        Every failure is one VLMError: no connection, a timeout, an HTTP error, and a reply that
        is not a chat completion (not JSON, an HTML or text page, a list, a choice without a
        message). The answer comes back without control characters and with the API key and any
        bearer token redacted; so does every message.
        """
        import openai

        options: dict[str, Any] = {}
        if self.temperature is not None:
            options["temperature"] = self.temperature
        if (max_tokens or self.max_tokens) is not None:
            options["max_tokens"] = max_tokens or self.max_tokens
        subject = f"The VLM '{self.model}' at {public_url(self.base_url)}"
        where = "t" + subject[1:]
        start = time.perf_counter()
        try:
            raw = self._client.chat.completions.with_raw_response.create(model=self.model, messages=messages, **options)
            body = raw.http_response.text
            content_type = raw.http_response.headers.get("content-type", "")
        except openai.APITimeoutError:
            elapsed = time.perf_counter() - start
            attempts = self.max_retries + 1
            raise VLMError(self._clean(
                f"{subject} did not answer within {self.timeout:g} s ({attempts} attempt{'s' * (attempts > 1)}, "
                f"{elapsed:.1f} s in all). Check the server, or raise --vlm-timeout (now {self.timeout:g} s) "
                f"or lower --vlm-retries (now {self.max_retries}); in Python: timeout=, max_retries=."
            )) from None
        except openai.APIConnectionError as exc:
            raise VLMError(self._clean(f"Could not reach {where} ({exc}). Is the server running and the URL right?")) from None
        except openai.AuthenticationError:
            raise VLMError(f"{subject} refused the API key (HTTP 401). Check OPENAI_API_KEY.") from None
        except openai.NotFoundError:
            raise VLMError(
                f"{subject} answered HTTP 404: the model or the URL is unknown there. "
                "Pass --vlm-model with a model the server serves, and a base URL ending in /v1."
            ) from None
        except openai.APIStatusError as exc:
            detail = exc.body.get("message") if isinstance(exc.body, dict) else None
            raise VLMError(self._clean(f"{subject} answered HTTP {exc.status_code}: {_short(detail or exc.message)}")) from None
        except (openai.OpenAIError, OSError, ValueError) as exc:  # anything else the library or the transport raised
            raise VLMError(self._clean(f"{subject} failed: {type(exc).__name__}: {_short(exc)}")) from None
        latency = time.perf_counter() - start

        text, payload = self._parse(subject, body, content_type)
        choice = payload["choices"][0]
        usage = payload.get("usage")
        usage = usage if isinstance(usage, dict) else None
        record = {
            "model": self.model,
            # the server's name for it, e.g. a dated snapshot
            "served_model": self._clean(payload["model"])[:200] if isinstance(payload.get("model"), str) else None,
            "latency_s": round(latency, 3),
            # Plain names: the record writer drops keys that look like secrets ("token").
            "usage": None if usage is None else {
                "prompt": _count(usage.get("prompt_tokens")), "completion": _count(usage.get("completion_tokens")),
                "total": _count(usage.get("total_tokens")),
            },
            "finish_reason": choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None,
        }
        return ChatReply(text=text, record=record)

    def _parse(self, subject: str, body: str, content_type: str) -> tuple[str, dict[str, Any]]:
        """(answer text, payload) of a 200 reply, or VLMError naming what came back instead of a chat completion."""
        fix = " Check that the base URL is the server's OpenAI-compatible API (it ends in /v1) and not a web page or a proxy."

        def refuse(what: str) -> VLMError:
            return VLMError(self._clean(f"{subject} sent {what} instead of a chat completion.{fix}"))

        try:
            payload = json.loads(body)
        except ValueError:
            kind = content_type.split(";")[0].strip() or "no content type"
            return_what = f"a reply that is not JSON ({kind}: {_short(body, 80)!r})"
            raise refuse(return_what) from None
        if not isinstance(payload, dict):
            raise refuse(f"a JSON {type(payload).__name__} ({_short(body, 80)!r})")
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices:
            raise refuse("a reply with no choices")
        choice = choices[0]
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            raise refuse("a choice without a message")
        content = message.get("content")
        if content is None:
            content = ""
        elif isinstance(content, list):  # content parts: keep their text
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
        elif not isinstance(content, str):
            raise refuse(f"a message whose content is a JSON {type(content).__name__}")
        return self._clean(content), payload

    def _clean(self, text: str) -> str:
        """Text from the server made safe to keep and print: no control characters, no key, no bearer token."""
        return redact(strip_control(text), [self._api_key] if self._api_key != LOCAL_PLACEHOLDER_KEY else [])


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

