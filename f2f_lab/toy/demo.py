"""One toy edit end to end, in seconds on a CPU: what `f2f demo` runs beside its tiny (noise) edit.

    result = toy_demo(seed=0)       # source, template caption, learned video, chosen frame, exact path
    result.save("runs/demo/toy")    # the files of any Frame2Frame run, plus exact_path.png

The source is toy source `seed` (`f2f toy source --seed N`); the edit is the paper's target run
through `Frame2Frame.from_preset("toy")` (the learned toy video model, the template captioner,
the factor-fit selector). Beside the learned video it keeps the renderer's exact path from the
same source, chosen by the same selector, so one look shows what the learned model gets right
and what it blurs. The record says both under "toy_demo".
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

from PIL import Image

from ..imaging import save_image, strip
from ..paper import PAPER_TARGET
from ..pipeline import Frame2Frame
from ..results import RUN_FILES, EditResult
from .evaluate import eval_source, source_image
from .paths import video_path
from .video_model import FRAMES, SIZE

EXACT_FILE = "exact_path.png"


@dataclass(kw_only=True)
class ToyDemoResult(EditResult):
    """A toy edit with the renderer's exact path beside it (`exact_frames`, `exact_index`)."""

    files: ClassVar[tuple[str, ...]] = RUN_FILES + (EXACT_FILE,)

    exact_frames: list[Image.Image]
    exact_index: int

    @property
    def written_files(self) -> tuple[str, ...]:
        return self.files

    def exact_strip(self, height: int = 128) -> Image.Image:
        """The renderer's exact path, every frame, the frame the selector keeps outlined."""
        return strip(self.exact_frames, chosen=self.exact_index, height=height)

    def _write_more(self, folder: Path) -> None:
        super()._write_more(folder)
        save_image(self.exact_strip(), folder / EXACT_FILE)


def toy_demo(seed: int = 0, editor: Frame2Frame | None = None) -> ToyDemoResult:
    """Edit toy source `seed` toward the paper's target with the learned toy models; the exact path beside it."""
    editor = editor or Frame2Frame.from_preset("toy")
    factors = eval_source(seed)
    result = editor.edit(source_image(seed), PAPER_TARGET, seed=seed)
    exact = video_path(factors, num_frames=FRAMES, size=SIZE)
    chosen = editor.selector(exact.frames[0], exact.frames, PAPER_TARGET)
    record = {**result.record, "toy_demo": {
        "source": {"seed": seed, "set": "ai", "size": SIZE, "factors": factors.to_dict(),
                   "command": f"f2f toy source --seed {seed} --out person.png"},
        "exact_path": {"file": EXACT_FILE, "what": "the renderer's own video from the same source (a perfect video model)",
                       "index": chosen.index, "arms": chosen.record["arms"], "distance": chosen.record["distance"]},
    }}
    kept = {f.name: getattr(result, f.name) for f in fields(result) if f.init and f.name != "record"}
    return ToyDemoResult(**kept, record=record, exact_frames=exact.frames, exact_index=chosen.index)
