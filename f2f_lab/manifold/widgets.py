"""ipywidgets for the study: the hand filter of the sets, and a slider that walks along the video's path."""

from __future__ import annotations

import io
from typing import Sequence

from PIL import Image, ImageOps

from ..imaging import encode_image
from ..pages import filter_header_html, filter_saved_html, path_frame_html
from .measures import PathMeasures
from .plot import plot_manifold
from .projection import ManifoldProjection
from .sets import ImageSets


def _jpeg(image: Image.Image, size: int) -> bytes:
    """A square `size` x `size` thumbnail (centre-cropped) as JPEG bytes for an `Image` widget."""
    return encode_image(ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS), quality=85)


def filter_grid(sets: ImageSets, size: int = 96, columns: int = 8):
    """A tab per set with a thumbnail and a "reject" toggle under each image, and a Save button.

    Saving writes the sets folder's kept.json (`ImageSets.save_filter`); from then on the
    rejected images are left out of features, fits and plots. Earlier choices are shown.
    """
    import ipywidgets as widgets
    from tqdm.auto import tqdm

    rejected_before = sets.read_filter()["rejected"]
    toggles: dict[str, dict[str, object]] = {}
    pages = []
    for p in sets.prompts:
        cells, toggles[p.key] = [], {}
        for path in tqdm(sets.files(p.key, filtered=False), desc=f"thumbnails {p.label}", leave=False):
            with Image.open(path) as opened:
                thumb = widgets.Image(value=_jpeg(opened, size), format="jpeg", layout=widgets.Layout(width=f"{size}px"))
            toggle = widgets.ToggleButton(
                value=path.name in rejected_before.get(p.key, []), description="reject", icon="times",
                tooltip=f"{p.key}/{path.name}: leave this image out", layout=widgets.Layout(width=f"{size}px"),
                button_style="",
            )
            toggle.observe(lambda change, t=toggle: setattr(t, "button_style", "danger" if change["new"] else ""), "value")
            toggle.button_style = "danger" if toggle.value else ""
            toggles[p.key][path.name] = toggle
            cells.append(widgets.VBox([thumb, toggle], layout=widgets.Layout(align_items="center")))
        header = widgets.HTML(filter_header_html(p.label, p.colour, p.prompt))
        grid = widgets.GridBox(cells, layout=widgets.Layout(grid_template_columns=f"repeat({columns}, {size + 8}px)"))
        pages.append(widgets.VBox([header, grid]))
    tabs = widgets.Tab(children=pages)
    for k, p in enumerate(sets.prompts):
        tabs.set_title(k, p.label)
    status = widgets.HTML()
    save = widgets.Button(description="Save choices", button_style="primary", icon="save")

    def on_save(_=None):
        chosen = {key: [name for name, t in row.items() if t.value] for key, row in toggles.items()}
        path = sets.save_filter(chosen)
        count = sum(len(v) for v in chosen.values())
        status.value = filter_saved_html(path, count)

    save.on_click(on_save)
    box = widgets.VBox([tabs, widgets.HBox([save, status])])
    box.save = on_save  # so a script can save without clicking
    box.toggles = toggles
    return box


def path_explorer(
    projection: ManifoldProjection,
    path,
    frames: Sequence[Image.Image],
    *,
    edit=None,
    chosen: int | None = None,
    measures: PathMeasures | None = None,
    frame_size: int = 320,
    **plot_options,
):
    """A slider (and play button) that moves along the video: the plot rings the frame's point, the frame shows beside it.

    The plot is drawn once and only the ring moves, so it stays responsive without an
    interactive matplotlib backend.
    """
    import ipywidgets as widgets

    coords = projection.transform(path)
    fig = plot_manifold(projection, path, frames, edit=edit, chosen=chosen, thumbnails=0, highlight=0,
                        figsize=plot_options.pop("figsize", (10, 6.5)), dpi=plot_options.pop("dpi", 100), **plot_options)
    ring = next(c for c in fig.axes[0].collections if c.get_gid() == "highlight")
    plot = widgets.Image(format="png", layout=widgets.Layout(max_width="760px"))
    picture = widgets.Image(format="jpeg", layout=widgets.Layout(width=f"{frame_size}px"))
    caption = widgets.HTML()
    slider = widgets.IntSlider(value=0, min=0, max=len(frames) - 1, description="frame", continuous_update=True,
                               layout=widgets.Layout(width="520px"))
    play = widgets.Play(value=0, min=0, max=len(frames) - 1, interval=200, description="play")
    widgets.jslink((play, "value"), (slider, "value"))

    def show(k: int) -> None:
        ring.set_offsets([coords[k]])
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", facecolor="white")
        plot.value = buffer.getvalue()
        picture.value = _jpeg(frames[k], frame_size)
        text = path_frame_html(k, len(frames) - 1, chosen, None if measures is None else measures.frames[k])
        caption.value = text

    slider.observe(lambda change: show(change["new"]), "value")
    show(0)
    return widgets.VBox([widgets.HBox([plot, widgets.VBox([picture, caption])]), widgets.HBox([play, slider])])
