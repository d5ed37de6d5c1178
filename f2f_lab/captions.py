"""Step 1 of Frame2Frame: the temporal editing caption (Sec. 3.1).

A target caption says what the edited image shows ("A photo of a cat yawning."); a
temporal editing caption says how a short video gets there from the source ("The cat
slowly opens its mouth wide in a big yawn."). The paper asks GPT-4o for it with the
instruction of appendix B.1 and nine in-context examples (`VLMCaptioner`). IF-Edit (arXiv
2511.19435, Sec. 4.1) asks a VLM to reason first and then write one prompt that tells the
edit as a process in time and says what stays unchanged (`CoTCaptioner`, "cot").

Without a VLM, two captioners need nothing but the target caption:
- `TemplateCaptioner` wraps it in a fixed sentence about a slow change and a static camera;
- `TargetCaptioner` passes it through unchanged (the "Original Captions" row of Table S4).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from .errors import F2FError
from .imaging import load_image
from .paper import B1_INSTRUCTION, PAPER_ICL_COUNT  # noqa: F401  (the paper's text lives in paper.py)
from .resources import data_path
from .vlm import VLMError  # noqa: F401  (re-exported: callers catch it from here)
from .vlm import VLMClient, assistant_turn, kept_answer, strip_control, user_turn

DATA = data_path()
ICL_EXAMPLES = data_path("icl_examples.json")



@dataclass
class Caption:
    """A temporal editing caption and how it was made."""

    text: str
    captioner: str
    record: dict[str, Any] = field(default_factory=dict)


def check_caption(text: str | None, what: str = "target caption") -> str:
    """The caption stripped of surrounding whitespace, or F2FError when there is nothing in it."""
    if text is None or not str(text).strip():
        raise F2FError(f"The {what} is empty. Describe the edited image, e.g. \"A photo of a cat yawning.\"")
    return " ".join(str(text).split())


# What a VLM answer must not be to serve as a caption or an instruction (`unusable_reason`).
MAX_CAPTION_WORDS = 120  # a temporal caption is one to three sentences; a longer answer is a chat or a runaway
MAX_CAPTION_CHARS = 1000
_REFUSAL = re.compile(
    r"^(?:i[' \u2019]?a?m sorry|sorry|i can(?:no|[' \u2019])t|i am unable|i'm unable|i[' \u2019]m unable|as an ai|"
    r"i apologi[sz]e|unfortunately,? i|i (?:will|won[' \u2019]t|do not|don[' \u2019]t) (?:be able to )?(?:help|assist))\b",
    re.IGNORECASE,
)


def unusable_reason(text: str, max_words: int = MAX_CAPTION_WORDS) -> str | None:
    """Why a cleaned VLM answer cannot serve as a caption or an instruction (empty, a refusal,
    too long, not words), or None when it can. The captioners and the instruction editors share it."""
    if not text:
        return "the VLM's answer was empty"
    if _REFUSAL.match(text):
        return "the VLM refused"
    if len(text.split()) > max_words or len(text) > max(MAX_CAPTION_CHARS, 12 * max_words):
        return f"the VLM's answer is longer than {max_words} words"
    visible = [c for c in text if not c.isspace()]
    if sum(c.isalpha() for c in visible) * 2 < len(visible):
        return "the VLM's answer is not words (mostly digits or symbols)"
    return None


_PHOTO_PREFIX = re.compile(r"^(a|an)\s+(photo|picture|image)\s+of\s+", re.IGNORECASE)


class TemplateCaptioner:
    """A temporal caption from a fixed template: no VLM, no network.

    "A photo of a cat yawning." becomes "The scene slowly and smoothly changes until it
    shows a cat yawning. The camera remains static." The wording follows B.1's advice
    (simple, one main change, static camera).
    """

    name = "template"
    template = "The scene slowly and smoothly changes until it shows {subject}. The camera remains static."

    def __call__(self, image: Image.Image, target: str) -> Caption:
        target = check_caption(target)
        subject = _PHOTO_PREFIX.sub("", target).rstrip(" .!")
        first = subject.split(" ", 1)[0]
        if not (len(first) > 1 and first.isupper()):  # keep acronyms such as "AI" as they are
            subject = subject[:1].lower() + subject[1:]
        return Caption(text=self.template.format(subject=subject), captioner=self.name, record={"template": self.template})


class TargetCaptioner:
    """The target caption itself drives the video (the Table S4 ablation)."""

    name = "target"

    def __call__(self, image: Image.Image, target: str) -> Caption:
        return Caption(text=check_caption(target), captioner=self.name)


def b1_instruction(target: str) -> str:
    """The paper's B.1 instruction with CAPTION replaced by `target`."""
    return B1_INSTRUCTION.replace("CAPTION", target)


@dataclass(frozen=True)
class ICLExample:
    """One in-context example: a source image (or none), its target caption and its temporal caption."""

    target: str
    temporal: str
    image: Path | None = None
    origin: str = ""


def load_icl_examples(path: str | Path = ICL_EXAMPLES, count: int | None = PAPER_ICL_COUNT) -> list[ICLExample]:
    """The first `count` examples (all when None) of a JSON file like data/icl_examples.json.

    Image paths are relative to the file. The bundled file holds ten; the paper used nine
    (appendix B.1), so nine is the default: the three of Figure S10, then six of ours.
    """
    path = Path(path)
    if count is not None and count < 1:
        raise F2FError(f"count={count}: use at least one in-context example (the paper: {PAPER_ICL_COUNT}).")
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["examples"]
    except FileNotFoundError:
        raise F2FError(f"No in-context examples at '{path}'. Reinstall f2f_lab (the file ships inside the package, f2f_lab/data/icl_examples.json).") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise F2FError(f"'{path}' is not an examples file ({type(exc).__name__}: {exc}); it needs an \"examples\" list.") from None
    examples = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not str(entry.get("target", "")).strip() or not str(entry.get("temporal", "")).strip():
            raise F2FError(f"Example {number} of '{path}' needs a non-empty \"target\" and \"temporal\" caption.")
        image = path.parent / entry["image"] if entry.get("image") else None
        if image is not None and not image.is_file():
            raise F2FError(f"Example {number} of '{path}' names the image '{image}', which does not exist.")
        examples.append(ICLExample(target=entry["target"], temporal=entry["temporal"], image=image, origin=entry.get("origin", "")))
    return examples[:count]


_LABEL = re.compile(
    r"^[\s*_#>`]*(?:(?:temporal\s+)?(?:editing\s+)?caption|description|video\s+description|answer|response|output)"
    r"[\s*_`]*[:\uff1a][\s*_`]*",
    re.IGNORECASE,
)
# Chatty openings: "Sure! Here is the description: ..."
_PREAMBLE = re.compile(
    r"^(?:(?:sure|certainly|okay|ok|of course)\b[!.,]?\s*)?here(?:'s| is)\b[^:]*:\s*"
    r"|^(?:sure|certainly|okay|ok|of course)[!.]\s+",
    re.IGNORECASE,
)
_QUOTE_PAIRS = {'"': '"', "\u201c": "\u201d", "'": "'", "\u2018": "\u2019", "`": "`", "\u00ab": "\u00bb"}
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"\u201d\u2019']?\s+(?=[\"\u201c\u2018']?[A-Z])")
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "Jr.", "vs.", "e.g.", "i.e.")


def _unquote(text: str) -> str:
    while len(text) >= 2 and text[0] in _QUOTE_PAIRS:
        close = _QUOTE_PAIRS[text[0]]
        if text.endswith(close):
            text = text[1:-1].strip()
        elif len(text) >= 3 and text[-2] == close and text[-1] in ".!?":
            text = (text[1:-2].strip() + text[-1])
        elif close not in text[1:]:
            text = text[1:].strip()
        else:
            break
    return text


def clean_caption(answer: str | None, *, first_sentence: bool = True) -> str:
    """A VLM's answer cut down to the one-sentence caption B.1 asks for.

    Drops "Caption:"-style labels, markdown emphasis, surrounding quotes, preambles ("Sure!
    Here is the description:") and line breaks, and keeps the first sentence (all of them
    with first_sentence=False). Returns "" when nothing is left.
    """
    lines = []
    for line in strip_control(answer or "").splitlines():
        line = _LABEL.sub("", line.strip()).strip().strip("*_#>` ").strip()
        if line and not line.endswith(":"):
            lines.append(line)
    text = _unquote(_PREAMBLE.sub("", " ".join(" ".join(lines).split()), count=1))
    for match in _SENTENCE_END.finditer(text if first_sentence else ""):
        if not text[: match.start()].endswith(_ABBREVIATIONS):
            text = text[: match.end()].strip()  # keeps a closing quote after the full stop
            break
    return _unquote(text.strip().strip("*_ ").strip())


class _VLMCaptionerBase:
    """What the VLM captioners share: the client (given, or built from its options) and how the source image travels."""

    def __init__(self, client=None, *, image_max_side: int = 768, image_format: str = "JPEG", **client_options):
        self.client = client if client is not None else VLMClient(**client_options)
        self.image_max_side = image_max_side
        self.image_format = image_format

    def image_options(self) -> dict[str, Any]:
        """`vlm.user_turn`'s image options: format and largest side of the data URLs."""
        return {"image_format": self.image_format, "max_side": self.image_max_side}


class VLMCaptioner(_VLMCaptionerBase):
    """Temporal captions from a VLM, as in the paper (Sec. 3.1, appendix B.1).

    The conversation is the paper's in-context learning: for each example, a user turn with
    the B.1 instruction (CAPTION = the example's target caption) and the example's image,
    then an assistant turn with the example's temporal caption; finally the same instruction
    for the real target with the real source image. The answer is cleaned to one sentence
    (`clean_caption`); an answer that is empty, a refusal, too long or not words is retried once
    with a reminder, then replaced by the template caption (warned, `record["fallback"]`).

    Args:
        client: a `VLMClient`; when None one is built from `client_options` (model, api_key,
            base_url, timeout, max_retries, temperature, max_tokens), which raises F2FError
            right away when no key or base URL is configured.
        icl_examples: a JSON file like data/icl_examples.json (the default), or a list of
            `ICLExample`.
        icl_count: how many of the file's examples to send: nine, as the paper (appendix B.1);
            None sends all of them (the bundled file has a tenth).
        image_max_side: the source image is shrunk to fit this many pixels before sending.
        image_format: "JPEG" or "PNG" for the data URLs.
    """

    name = "vlm"

    def __init__(
        self,
        client=None,
        *,
        icl_examples: str | Path | list[ICLExample] = ICL_EXAMPLES,
        icl_count: int | None = PAPER_ICL_COUNT,
        image_max_side: int = 768,
        image_format: str = "JPEG",
        **client_options,
    ):
        super().__init__(client, image_max_side=image_max_side, image_format=image_format, **client_options)
        if isinstance(icl_examples, (str, Path)):
            self.icl_source = Path(icl_examples)
            self.examples = load_icl_examples(icl_examples, icl_count)
        else:
            self.icl_source = None
            self.examples = list(icl_examples)
        self.example_images = [None if ex.image is None else load_image(ex.image) for ex in self.examples]

    def messages(self, image: Image.Image, target: str) -> list[dict[str, Any]]:
        """The chat sent to the VLM: the in-context turns, then the request for `target`."""
        options = self.image_options()
        messages = []
        for example, example_image in zip(self.examples, self.example_images):
            images = [] if example_image is None else [example_image]
            messages.append(user_turn(b1_instruction(example.target), images, **options))
            messages.append(assistant_turn(example.temporal))
        messages.append(user_turn(b1_instruction(target), [image], **options))
        return messages

    def __call__(self, image: Image.Image, target: str) -> Caption:
        """The caption of the VLM's answer. An answer that is empty, a refusal, too long or not words
        (`unusable_reason`) gets one retry with a reminder; if that fails too, the caption is
        `TemplateCaptioner`'s, with a warning and `record["fallback"]`. A failed call raises VLMError."""
        target = check_caption(target)
        messages = self.messages(image, target)
        answers: list[str] = []
        calls: list[dict[str, Any]] = []
        reason = None
        for attempt in range(2):  # the answer, then one retry with a reminder
            reply = self.client.chat(messages)  # VLMError propagates
            answers.append(kept_answer(reply.text))
            calls.append(reply.record)
            text = clean_caption(reply.text)
            reason = unusable_reason(text)
            if reason is None:
                record = self.record(reply)
                record.update(answers=answers, calls=calls, retried=attempt > 0, fallback=None)
                return Caption(text=text, captioner=self.name, record=record)
            if attempt == 0:
                messages = messages + [assistant_turn(kept_answer(reply.text)), user_turn(B1_REMINDER.format(reason=reason))]
        return self._fall_back(image, target, reply, answers, calls, reason)

    def _fall_back(self, image, target, reply, answers, calls, reason: str) -> Caption:
        import warnings

        chosen = TemplateCaptioner()(image, target)
        record = self.record(reply)
        reason = f"{reason}, after one retry with a reminder"
        record.update(answers=answers, calls=calls, retried=True,
                      fallback={"captioner": chosen.captioner, "reason": reason, **chosen.record})
        warnings.warn(f"The VLM captioner fell back to the '{chosen.captioner}' caption: {reason} "
                      f"(its answer: {_quote(answers[-1])}).", stacklevel=2)
        return Caption(text=chosen.text, captioner=chosen.captioner, record=record)

    def record(self, reply) -> dict[str, Any]:
        record = {
            "vlm": self.client.describe(),
            "instruction": "paper appendix B.1, verbatim",
            "icl_examples": len(self.examples),
            "answer": kept_answer(reply.text),
            "call": reply.record,
        }
        if self.icl_source is not None:
            record["icl_file"] = self.icl_source.name
            record["icl_sha256"] = hashlib.sha256(self.icl_source.read_bytes()).hexdigest()[:16]
        return record


B1_REMINDER = (
    "Your answer could not be used as the caption ({reason}). Answer only with the one-sentence temporal "
    "editing caption for the last image, as in the examples."
)


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(str(text)[: limit * 4].split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# The chain-of-thought caption request. IF-Edit (arXiv 2511.19435, Sec. 4.1) describes what its
# VLM does (it reads the source image and the edit together, then writes one prompt that tells
# the edit as a short process in time: which elements move, appear or disappear, in order,
# ending at the target state, and what stays unchanged: identity, style, lighting, pose) but
# publishes neither its template nor its reasoning steps nor its output format. This text is
# therefore ours, written from that description; it is NOT the paper's. TARGET is replaced by
# the target caption or edit instruction.
COT_INSTRUCTION = (
    "The provided image is the first frame of a short clip, and the clip must end in this edit: “TARGET”. "
    "Think step by step before you write a prompt for an image-to-video model.\n"
    "First, under the heading \"Reasoning:\", work out:\n"
    "1. What has to change to reach the edit: which elements move, appear or disappear.\n"
    "2. In what order these changes happen, as one short, smooth process that ends exactly at the edited state.\n"
    "3. What must stay unchanged: the identity of people and objects, the style, the lighting, the pose, "
    "and everything else the edit does not ask to change.\n"
    "Then write the final prompt on one line that starts with \"Final prompt:\". In two or three short "
    "sentences it tells the changes in order as a process in time, ends at the edited state, and says what "
    "stays the same. Do not add objects that are neither in the image nor in the edit, keep the camera "
    "static unless movement is absolutely necessary, and do not mention the duration or use the word “video”."
)
COT_INSTRUCTION_LABEL = "ours, written from IF-Edit's description (arXiv 2511.19435, Sec. 4.1); not published"
COT_REMINDER = (
    "Your answer has no line that starts with \"Final prompt:\". Write the final prompt now, on one line "
    "that starts with \"Final prompt:\"."
)

# A line that opens with the final-prompt label: "Final prompt: ...", "**Final Prompt:** ...",
# "### Final video prompt", "Final Prompt - ...". The label must start the line (after
# markdown marks), and be followed by ":" or a dash, or end the line.
_FINAL_PROMPT = re.compile(
    r"^[ \t>*_#`-]*final[ \t]+(?:video[ \t]+)?prompt[ \t*_`]*(?:[:\uff1a\-\u2013\u2014]|$)[ \t*_`]*(?P<rest>.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_REASONING_HEADING = re.compile(r"^[\s>*_#`]*reasoning[\s*_`]*[:\uff1a]?[\s*_`]*", re.IGNORECASE)


def cot_instruction(target: str) -> str:
    """Our chain-of-thought request (`COT_INSTRUCTION`) with TARGET replaced by `target`."""
    return COT_INSTRUCTION.replace("TARGET", target)


def parse_cot_answer(answer: str | None) -> tuple[str, str]:
    """(reasoning, final prompt) of a chain-of-thought answer; the prompt is "" when there is none.

    The last line that opens with a "Final prompt" label wins (markdown bold, headings,
    ":" or a dash after it). The prompt is the rest of that line, or, when that is empty,
    the lines after it up to the next blank line; it is cleaned like other captions (labels,
    emphasis, quotes) but keeps all its sentences. The reasoning is everything before that
    line, without its "Reasoning:" heading.
    """
    answer = str(answer or "")
    matches = list(_FINAL_PROMPT.finditer(answer))
    if not matches:
        return _REASONING_HEADING.sub("", answer.strip(), count=1).strip(), ""
    last = matches[-1]
    prompt = last.group("rest").strip()
    if not prompt.strip("*_`\"' "):
        following = []
        for line in answer[last.end():].splitlines():
            if line.strip():
                following.append(line)
            elif following:
                break
        prompt = "\n".join(following)
    reasoning = _REASONING_HEADING.sub("", answer[: last.start()].strip(), count=1).strip()
    return reasoning, clean_caption(prompt, first_sentence=False)


class CoTCaptioner(_VLMCaptionerBase):
    """Temporal captions by chain-of-thought, after IF-Edit (arXiv 2511.19435, Sec. 4.1).

    One user turn: our `COT_INSTRUCTION` (IF-Edit's is not published) with the target, and
    the source image. The VLM reasons under "Reasoning:" (what changes, in what order, what
    stays) and ends with a "Final prompt:" line (`parse_cot_answer`); the caption is that
    prompt, and the record keeps the reasoning and the raw answers.

    An answer without a final prompt gets one retry that reminds the VLM of the format. If
    that has none either, the caption is `TemplateCaptioner`'s, with a warning and
    `record["fallback"]` saying why. A failed call (VLMError: no connection, timeout, HTTP
    error) raises, as with `VLMCaptioner`.

    Args: as `VLMCaptioner`'s, without the in-context examples (IF-Edit names none).
    """

    name = "cot"

    def messages(self, image: Image.Image, target: str) -> list[dict[str, Any]]:
        """The chat sent to the VLM: the chain-of-thought request for `target` with the source image."""
        return [user_turn(cot_instruction(target), [image], **self.image_options())]

    def __call__(self, image: Image.Image, target: str) -> Caption:
        target = check_caption(target)
        messages = self.messages(image, target)
        record: dict[str, Any] = {"vlm": self.client.describe(), "instruction": COT_INSTRUCTION_LABEL,
                                  "answers": [], "calls": [], "retried": False}
        for attempt in range(2):  # the answer, then one retry with a reminder of the format
            reply = self.client.chat(messages, max_tokens=1024)  # reasoning + final prompt; VLMError propagates
            record["answers"].append(kept_answer(reply.text))
            record["calls"].append(reply.record)
            reasoning, prompt = parse_cot_answer(reply.text)
            if prompt and unusable_reason(prompt) is not None:  # a refusal or a runaway is no prompt
                record.setdefault("unusable", []).append(f"{unusable_reason(prompt)}: {_quote(prompt)}")
                prompt = ""
            if prompt:
                if not reasoning and attempt:  # the retry gave only the prompt: the first answer was the reasoning
                    reasoning = parse_cot_answer(record["answers"][0])[0]
                record.update(reasoning=kept_answer(reasoning), answer=kept_answer(reply.text), call=reply.record,
                              fallback=None)
                return Caption(text=check_caption(prompt, "final prompt"), captioner=self.name, record=record)
            if attempt == 0:
                record["retried"] = True
                messages = messages + [assistant_turn(reply.text), user_turn(COT_REMINDER)]
        return self._fall_back(image, target, record)

    def _fall_back(self, image: Image.Image, target: str, record: dict[str, Any]) -> Caption:
        import warnings

        reason = "no \"Final prompt:\" line in the VLM's answer, after one retry with a reminder"
        if record.get("unusable"):
            reason = f"no usable \"Final prompt:\" line ({record['unusable'][-1]}), after one retry with a reminder"
        chosen = TemplateCaptioner()(image, target)
        record["fallback"] = {"captioner": chosen.captioner, "reason": reason, "answers": list(record["answers"]),
                              **chosen.record}
        warnings.warn(f"The chain-of-thought captioner fell back to the '{chosen.captioner}' caption: {reason}.",
                      stacklevel=3)
        return Caption(text=chosen.text, captioner=chosen.captioner, record=record)


CAPTIONERS = ("vlm", "cot", "template", "target")


def make_captioner(name: str, *, client=None, **options):
    """Build a captioner by name: "vlm" (B.1 with in-context examples), "cot" (IF-Edit's
    chain-of-thought prompt, our wording), "template" or "target".

    client: the VLM client of a "vlm" or "cot" captioner (shared with the selector); without
    one, `options` may carry the client's settings too (model, base_url, api_key, ...).
    options: `VLMCaptioner` options (icl_examples, image_max_side, image_format), or
    `CoTCaptioner`'s (image_max_side, image_format); the other captioners take none.
    """
    if name == "vlm":
        return VLMCaptioner(client, **options)
    if name == "cot":
        return CoTCaptioner(client, **options)
    if name not in CAPTIONERS:
        raise F2FError(f"Unknown captioner '{name}'. Choose one of: {', '.join(CAPTIONERS)}.")
    if options:
        raise F2FError(f"The {name} captioner takes no options; got {', '.join(sorted(options))}.")
    return TemplateCaptioner() if name == "template" else TargetCaptioner()
