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
import os
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
        self.temperature = temperature
        self.max_tokens = max_tokens
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
        """Send `messages` and return the first choice's text, or raise VLMError (max_tokens: this request's cap)."""
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
            response = self._client.chat.completions.create(model=self.model, messages=messages, **options)
        except openai.APITimeoutError:
            raise VLMError(
                f"{subject} did not answer within {self.timeout:g} s ({self.max_retries} retries). "
                "Check the server, or raise the timeout."
            ) from None
        except openai.APIConnectionError as exc:
            raise VLMError(f"Could not reach {where} ({exc}). Is the server running and the URL right?") from None
        except openai.AuthenticationError:
            raise VLMError(f"{subject} refused the API key (HTTP 401). Check OPENAI_API_KEY.") from None
        except openai.NotFoundError:
            raise VLMError(
                f"{subject} answered HTTP 404: the model or the URL is unknown there. "
                "Pass --vlm-model with a model the server serves, and a base URL ending in /v1."
            ) from None
        except openai.APIStatusError as exc:
            detail = exc.body.get("message") if isinstance(exc.body, dict) else None
            raise VLMError(f"{subject} answered HTTP {exc.status_code}: {_short(detail or exc.message)}") from None
        latency = time.perf_counter() - start

        if not response.choices:
            raise VLMError(f"{subject} sent a reply with no choices.")
        text = response.choices[0].message.content or ""
        usage = response.usage
        record = {
            "model": self.model,
            "served_model": response.model,  # the server's name for it, e.g. a dated snapshot
            "latency_s": round(latency, 3),
            # Plain names: the record writer drops keys that look like secrets ("token").
            "usage": None if usage is None else {
                "prompt": usage.prompt_tokens, "completion": usage.completion_tokens, "total": usage.total_tokens,
            },
            "finish_reason": response.choices[0].finish_reason,
        }
        return ChatReply(text=text, record=record)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

