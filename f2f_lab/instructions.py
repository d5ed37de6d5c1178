"""Edit instructions from a target caption, for the instruction editors (ChronoEdit, Kontext, Qwen-Image-Edit).

A benchmark gives a *target caption*, what the edited image shows ("A photo of a cat
yawning."); an instruction editor wants an *instruction*, what to do ("Make the cat yawn.").
Two ways to get one, chosen by `instruction=` on the editor (recorded in every result):

- "template" (the default): one fixed sentence around the caption,

      "A photo of a cat yawning."  ->  "Edit the image so that it shows a cat yawning."

  The caption's subject goes in verbatim: only the framing "A photo/picture/image of" is
  dropped (the source already is one), nothing from the source image is added, nothing is
  said about what to keep. So the editor gets exactly the information the caption-driven
  methods get, in the grammatical form it was trained on, and a difference in the results
  is the method's, not the prompt writer's. Why this sentence: "Edit the image so that it
  shows ..." reads correctly before any noun phrase a caption starts with ("a cat yawning",
  "a person making a heart shape with their hands", "a painting of a dog"), where "Make it
  ..." or "Turn it into ..." read badly before an action ("Turn it into a person jogging").

- "vlm": a vision-language model sees the source image and the caption and writes the
  instruction (`VLM_REQUEST`, ours: the paper has no such step), through the project's VLM
  client (`vlm.make_vlm_client`, or anything with `.chat` and `.describe`). This is the
  counterpart of Frame2Frame's VLM-written temporal caption: both then see the source
  through a VLM. An answer that is empty, a refusal, or longer than `MAX_INSTRUCTION_WORDS`
  is not used: the template's instruction is, and the record says so ("fallback", with the
  VLM's answer). A VLM that cannot be reached is an error (`vlm.VLMError`), not a fallback,
  so a benchmark never silently mixes the two.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .captions import _PHOTO_PREFIX, _quote, check_caption, clean_caption  # the template captioner's own prefix rule, shared
from .captions import unusable_reason as _unusable  # one detector of refusals and garbage for captions and instructions
from .errors import F2FError
from .presets import get_preset
from .vlm import kept_answer, make_vlm_client, user_turn

INSTRUCTION_MODES = ("template", "vlm")
INSTRUCTION_TEMPLATE = "Edit the image so that it shows {subject}."
MAX_INSTRUCTION_WORDS = 60  # an edit instruction is one sentence; a longer answer is a description or a chat
# Ours (the paper has no instruction step): what the VLM is asked, CAPTION replaced by the target caption.
VLM_REQUEST = (
    "This image is to be edited. After the edit it should match this description: \u201cCAPTION\u201d. "
    "Write the instruction an image-editing model needs to make that change: one imperative sentence that names "
    "only what changes, for example \u201cMake the cat open its mouth in a wide yawn.\u201d Do not describe what stays "
    "the same and do not add anything the description does not ask for. Answer with the instruction only."
)
_INSTRUCTION_LABEL = re.compile(r"^[\s*_#>`]*(?:edit(?:ing)?\s+)?instruction[\s*_`]*[:\uff1a]\s*", re.IGNORECASE)


@dataclass
class Instruction:
    """An edit instruction and how it was made: `method` is "template" or "vlm" (what wrote `text`)."""

    text: str
    method: str
    record: dict[str, Any] = field(default_factory=dict)


def caption_subject(target: str) -> str:
    """What the target caption shows, for the template: "A photo of a cat yawning." -> "a cat yawning".

    The same rule as the template temporal captioner (`captions.TemplateCaptioner`): the framing
    "A photo/picture/image of" goes, the trailing full stop goes, the first letter is lowered
    unless the first word is an acronym ("AI").
    """
    subject = _PHOTO_PREFIX.sub("", check_caption(target)).rstrip(" .!")
    first = subject.split(" ", 1)[0]
    if not (len(first) > 1 and first.isupper()):
        subject = subject[:1].lower() + subject[1:]
    return subject


def template_instruction(target: str, template: str = INSTRUCTION_TEMPLATE) -> Instruction:
    """The fixed-template instruction of a target caption (see the module docstring)."""
    return Instruction(text=template.format(subject=caption_subject(target)), method="template",
                       record={"template": template})


def unusable_reason(text: str) -> str | None:
    """Why a cleaned VLM answer cannot serve as an instruction, or None when it can (`captions.unusable_reason`)."""
    return _unusable(text, MAX_INSTRUCTION_WORDS)


def clean_instruction(answer: str | None) -> str:
    """A VLM's answer cut down to one instruction sentence: labels, quotes, preambles and line breaks go."""
    lines = [_INSTRUCTION_LABEL.sub("", line) for line in str(answer or "").splitlines()]
    return clean_caption("\n".join(lines))


class TemplateInstructor:
    """Instructions from the fixed template: no VLM, no network."""

    name = "template"

    def __init__(self, template: str = INSTRUCTION_TEMPLATE):
        if "{subject}" not in template:
            raise F2FError(f"An instruction template needs a {{subject}} placeholder; got {template!r}.")
        self.template = template

    def __call__(self, image: Image.Image, target: str) -> Instruction:
        return template_instruction(target, self.template)

    def describe(self) -> dict[str, Any]:
        return {"instruction": self.name, "template": self.template}


class VLMInstructor:
    """Instructions written by a VLM that sees the source image and the target caption.

    Args:
        client: a VLM client (`vlm.VLMClient`, `vlm.LocalVLM`, or anything with `chat`
            and `describe`).
        fallback: the instructor used when the answer is unusable (default: the template).
        image_max_side, image_format: how the source image is sent (as the captioner sends it).
    """

    name = "vlm"

    def __init__(self, client, *, fallback: TemplateInstructor | None = None, image_max_side: int = 768,
                 image_format: str = "JPEG"):
        if client is None or not hasattr(client, "chat"):
            raise F2FError("instruction='vlm' needs a VLM client (anything with .chat); see f2f_lab.vlm.make_vlm_client.")
        self.client = client
        self.fallback = fallback or TemplateInstructor()
        self.image_max_side = image_max_side
        self.image_format = image_format

    def messages(self, image: Image.Image, target: str) -> list[dict[str, Any]]:
        return [user_turn(VLM_REQUEST.replace("CAPTION", target), [image], image_format=self.image_format,
                          max_side=self.image_max_side)]

    def __call__(self, image: Image.Image, target: str) -> Instruction:
        target = check_caption(target)
        reply = self.client.chat(self.messages(image, target))  # an unreachable VLM raises VLMError here
        text = clean_instruction(reply.text)
        record = {"vlm": _describe(self.client), "request": "f2f_lab.instructions.VLM_REQUEST", "answer": kept_answer(reply.text),
                  "call": reply.record}
        reason = unusable_reason(text)
        if reason is None:
            return Instruction(text=text, method=self.name, record=record)
        fallback = self.fallback(image, target)
        warnings.warn(f"{reason} ({_quote(reply.text)}); the instruction comes from the template instead: {fallback.text!r}",
                      stacklevel=2)
        return Instruction(text=fallback.text, method=fallback.method,
                           record={**record, **fallback.record, "requested": self.name, "fallback": reason})

    def describe(self) -> dict[str, Any]:
        return {"instruction": self.name, "vlm": _describe(self.client), "fallback": self.fallback.describe()}


def _describe(client) -> dict[str, Any]:
    describe = getattr(client, "describe", None)
    return describe() if callable(describe) else {"client": type(client).__name__}


def make_instructor(mode: str = "template", *, client=None, preset=None, device: str | None = None, torch_dtype=None,
                    vlm_options: dict | None = None):
    """The instructor of `mode` ("template" or "vlm").

    For "vlm" without a `client`, one is built as Frame2Frame builds its VLM: the preset's
    `vlm_backend` and `vlm_model` through `vlm.make_vlm_client`, with `vlm_options`
    (openai: base_url, api_key, ...); without a key or a server that fails here, before any
    model loads.
    """
    if mode not in INSTRUCTION_MODES:
        raise F2FError(f"Unknown instruction mode '{mode}'. Choose one of: {', '.join(INSTRUCTION_MODES)}.")
    if mode == "template":
        return TemplateInstructor()
    if client is None:
        preset = get_preset(preset or "paper")
        client = make_vlm_client(**{"backend": preset.vlm_backend, "model": preset.vlm_model, "tiny": preset.is_tiny,
                                    "device": device, "torch_dtype": torch_dtype, **(vlm_options or {})})
    return VLMInstructor(client)
