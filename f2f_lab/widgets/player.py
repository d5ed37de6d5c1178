"""The frame-strip player of one edit: step through its video and choose the frame by hand.

Built only from stock ipywidgets, so it works in JupyterLab 4 and the classic notebook
alike with no extension of ours. Frames go to the browser as JPEG bytes in `Image`
widgets (binary buffers, a few kB each), never as arrays or base64 text.

    player = f2f.show(result)          # FramePlayer
    player.result                      # the edit with the frame chosen in the player
    player.save("runs/cat")            # and every later "use this frame" re-saves there
"""

from __future__ import annotations

import dataclasses
import os
from ..pages import escape
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from PIL import Image

from ..display import CHOSEN_CSS, CURRENT_CSS, metrics_html, tiny_notice_html
from ..errors import F2FError
from ._views import image_widget, jpeg_bytes
from .picker import SeedPicker

FRAME_SIDE = 384  # the large view, in CSS pixels
SOURCE_SIDE = 256
THUMB_SIDE = 88
PAIR_SIDE = 160  # the chosen frame and its refinement, side by side, when the edit was refined


class FramePlayer(widgets.VBox):
    """Step through an edit's video, see the chosen frame, and choose another by hand.

    Shows the source beside a large view of the current frame, a Play control linked to a
    slider (in the browser, with `jslink`), a strip of thumbnails (0, the frames the selector
    saw, the last and the chosen one; click a number to jump there), the target and temporal
    captions, and the metrics when they are known. Index 0 shows the source: choosing it
    keeps the source, as the paper's selector does when no frame completes the edit. A
    refined edit (`Preset.refine`) also shows the frame that was refined beside the refined
    image, which is the edit; choosing a frame by hand drops the refinement.

    "Use this frame" replaces `player.result` with `result.with_index(k)`; if the player
    saved the result (`player.save(folder)`) or was given `folder=`, the folder is
    re-written so that edited.png and record.json say what is now chosen.

    Args:
        result: an `EditResult`.
        folder: a run folder that already holds this result; re-saved on "use this frame".
        scorer: optional `f2f_lab.metrics.Scorer` (anything with `score(source, edited, text)`):
            with it the player scores a result that has no metrics yet and re-scores a frame
            chosen by hand; without it, metrics are dropped when the frame changes, since
            they described the previous frame.
    """

    def __init__(self, result, *, folder: str | os.PathLike | None = None, scorer: Any = None):
        if not getattr(result, "frames", None):
            raise F2FError("This result has no frames to play; show() needs an EditResult from Frame2Frame.edit.")
        if scorer is not None and result.metrics is None:
            result = dataclasses.replace(result, metrics=scorer.score(result.source_output, result.image, result.target))
        self.result = result
        self.folder = Path(folder) if folder is not None else None
        self.scorer = scorer
        self._frame_cache: dict[int, bytes] = {}
        last = len(result.frames) - 1

        self.source_view = image_widget(result.source_output, SOURCE_SIDE, "f2f-source")
        self.frame_view = widgets.Image(
            value=self._frame_bytes(result.index), format="jpeg",
            layout=widgets.Layout(width=f"{FRAME_SIDE}px", height="auto", border=f"3px solid {CHOSEN_CSS}"),
        )
        self.frame_view.add_class("f2f-frame")
        self.frame_label = widgets.HTML()
        self.frame_label.add_class("f2f-frame-label")

        self.play = widgets.Play(value=result.index, min=0, max=last, step=1, interval=max(40, 1000 // result.fps),
                                 description="Play", show_repeat=False)
        self.slider = widgets.IntSlider(value=result.index, min=0, max=last, step=1, description="frame",
                                        continuous_update=True, layout=widgets.Layout(width=f"{FRAME_SIDE - 60}px"))
        self.slider.add_class("f2f-slider")
        self.link = widgets.jslink((self.play, "value"), (self.slider, "value"))  # in the browser, no kernel round trip

        self.use_button = widgets.Button(description="Use this frame", icon="check", button_style="warning",
                                         tooltip="Make the shown frame the edit (and re-save the run folder)")
        self.use_button.add_class("f2f-use")
        self.chosen_label = widgets.HTML(layout=widgets.Layout(margin="0 0 0 10px"))
        self.chosen_label.add_class("f2f-chosen")
        self.metrics_view = widgets.HTML(layout=widgets.Layout(margin="0 0 0 12px"))
        self.status = widgets.HTML()
        self.status.add_class("f2f-status")

        self._thumbs: dict[int, widgets.VBox] = {}
        self.strip = widgets.HBox(layout=widgets.Layout(overflow="auto", padding="4px 0"))
        self.strip.add_class("f2f-strip")
        self.refinement = widgets.VBox(layout=widgets.Layout(margin="0 0 0 12px"))
        self.refinement.add_class("f2f-refinement")
        self._refinement_of = None

        children = []
        if result.tiny:
            children.append(widgets.HTML(tiny_notice_html()))
        children += [
            widgets.HTML(self._captions_html()),
            widgets.HBox([
                widgets.VBox([widgets.HTML("<b>Source</b>"), self.source_view], layout=widgets.Layout(margin="0 12px 0 0")),
                widgets.VBox([self.frame_label, self.frame_view, widgets.HBox([self.play, self.slider]),
                              widgets.HBox([self.use_button, self.chosen_label])]),
                self.refinement,
                self.metrics_view,
            ], layout=widgets.Layout(align_items="flex-start")),
            widgets.HTML("<b>Frames</b> (orange: chosen, blue: shown; click a number to jump)"),
            self.strip,
            self.status,
        ]
        super().__init__(children)
        self.add_class("f2f-player")

        self.slider.observe(self._on_slide, names="value")
        self.use_button.on_click(self._on_use)
        self._refresh()

    # -- what a user calls -----------------------------------------------------------------

    @property
    def index(self) -> int:
        """The frame shown now (not necessarily the chosen one: that is `result.index`)."""
        return self.slider.value

    def choose(self, index: int | None = None):
        """Make frame `index` (default: the shown one) the edit; re-save if a folder is known."""
        index = self.slider.value if index is None else int(index)
        previous = self.result
        chosen = previous.with_index(index)
        note = ""
        if self.scorer is not None and (index != previous.index or previous.metrics is None):
            chosen = dataclasses.replace(chosen, metrics=self.scorer.score(chosen.source_output, chosen.image, chosen.target))
        elif previous.metrics is not None and index != previous.index:
            chosen = dataclasses.replace(chosen, metrics=None)  # they described the previous frame
            note = f"metrics dropped: they were for frame {previous.index}; show(result, scorer=...) re-scores"
        self.result = chosen
        if self.folder is not None:
            self.result.save(self.folder, overwrite=True)
            self.status.value = f"Frame {index} chosen by hand; saved to <code>{escape(str(self.folder))}</code>."
        else:
            self.status.value = f"Frame {index} chosen by hand{'; ' + escape(note) if note else ''}."
        self._refresh(note)
        return self.result

    def save(self, folder: str | os.PathLike, overwrite: bool = False) -> Path:
        """Save the current result (`EditResult.save`); later choices re-save the same folder."""
        path = self.result.save(folder, overwrite=overwrite)
        self.folder = Path(path)
        self.status.value = f"Saved to <code>{escape(str(self.folder))}</code>."
        return self.folder

    # -- drawing ---------------------------------------------------------------------------

    def _frame(self, index: int) -> Image.Image:
        # Index 0 means "keep the source", so the player shows the source there (as strip.png does).
        return self.result.source_output if index == 0 else self.result.frames[index]

    def _frame_bytes(self, index: int) -> bytes:
        if index not in self._frame_cache:
            self._frame_cache[index] = jpeg_bytes(self._frame(index), max_side=512)
        return self._frame_cache[index]

    def _strip_indices(self) -> list[int]:
        """Frame 0, the frames the selector saw, the last frame, and the chosen one."""
        return sorted({0, *self.result.tile_indices, len(self.result.frames) - 1, self.result.index})

    def _thumb(self, index: int) -> widgets.VBox:
        image = widgets.Image(value=jpeg_bytes(self._frame(index), max_side=2 * THUMB_SIDE), format="jpeg",
                              layout=widgets.Layout(width=f"{THUMB_SIDE}px", height="auto"))
        jump = widgets.Button(description=str(index), tooltip=f"show frame {index}",
                              layout=widgets.Layout(width=f"{THUMB_SIDE}px", height="24px"))
        jump.on_click(lambda _button, index=index: setattr(self.slider, "value", index))
        box = widgets.VBox([image, jump], layout=widgets.Layout(padding="2px", margin="0 4px 0 0"))
        box.add_class("f2f-thumb")
        self._thumbs[index] = box
        return box

    def _captions_html(self) -> str:
        result = self.result
        captioner = result.record.get("caption", {}).get("captioner", "")
        return (
            f"<div style='line-height:1.5'><b>Target:</b> {escape(result.target)}<br>"
            f"<b>Temporal caption</b>{f' ({escape(str(captioner))})' if captioner else ''}: {escape(result.caption)}<br>"
            f"<span style='color:#666'>seed {result.seed} &middot; {len(result.frames)} frames at {result.fps} fps</span></div>"
        )

    def _refresh(self, note: str = "") -> None:
        result, shown = self.result, self.slider.value
        self.frame_view.value = self._frame_bytes(shown)
        is_chosen = shown == result.index
        self.frame_view.layout.border = f"3px solid {CHOSEN_CSS if is_chosen else CURRENT_CSS}"
        what = "the chosen frame" if is_chosen else "not chosen"
        source = " (the source)" if shown == 0 else ""
        self.frame_label.value = f"<b>Frame {shown}</b>{source} of 0&ndash;{len(result.frames) - 1} &middot; {what}"
        selector = result.record.get("selection", {}).get("selector", "")
        by = "by hand" if selector == "manual" else f"{escape(str(selector))} selector" if selector else ""
        source_note = " (the source itself)" if result.index == 0 else ""
        self.chosen_label.value = f"<b>Chosen: frame {result.index}</b>{source_note}{' &middot; ' + by if by else ''}"
        self.use_button.disabled = is_chosen
        indices = self._strip_indices()
        if [self._thumbs.get(i) for i in indices] != list(self.strip.children):  # a frame chosen by hand joins
            self.strip.children = [self._thumbs[i] if i in self._thumbs else self._thumb(i) for i in indices]
        for index, box in self._thumbs.items():
            colour = CHOSEN_CSS if index == result.index else CURRENT_CSS if index == shown else "transparent"
            box.layout.border = f"3px solid {colour}"
        self.metrics_view.value = metrics_html(result.metrics, note)
        self._refresh_refinement()

    def _refresh_refinement(self) -> None:
        """The chosen frame and the refined image, labelled, while the edit is refined; nothing otherwise."""
        result = self.result
        if result.refined is self._refinement_of:
            return
        self._refinement_of = result.refined
        if result.refined is None:
            self.refinement.children = []
            return
        refine = result.record.get("refine", {})
        mode = refine.get("mode")
        why = " (the sharpest late frame)" if mode == "sharpest" else " (the selector's)" if mode == "selected" else ""
        before, after = refine.get("frame", {}).get("sharpness_before"), refine.get("frame", {}).get("sharpness_after")

        def labelled(image, title, sharpness):
            detail = f"<br><span style='color:#666'>sharpness {sharpness:.0f}</span>" if isinstance(sharpness, (int, float)) else ""
            return widgets.VBox([widgets.HTML(f"<b>{title}</b>{detail}"), image_widget(image, PAIR_SIDE, "f2f-pair-image")])

        self.refinement.children = [
            widgets.HTML("<b>Post-refinement</b>"),
            widgets.HBox([labelled(result.chosen_frame, f"Frame {result.refined_from}{why}", before),
                          labelled(result.refined, "Refined (the edit)", after)]),
        ]

    def _on_slide(self, change) -> None:
        self._refresh()

    def _on_use(self, _button) -> None:
        try:
            self.choose()
        except F2FError as error:
            self.status.value = f"<span style='color:#b00'>{escape(str(error))}</span>"

    def __repr__(self) -> str:  # the text/plain fallback where widgets do not render
        return (f"FramePlayer(frame {self.result.index} of {len(self.result.frames)} chosen; "
                f"target {self.result.target!r}; run it in Jupyter to see the player)")


def show(result, **options):
    """A `FramePlayer` for one result, a `SeedPicker` for a list of results of one task."""
    if isinstance(result, (list, tuple)):
        return SeedPicker(result, **options)
    return FramePlayer(result, **options)
