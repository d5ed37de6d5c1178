"""Every HTML page and snippet the package writes, with the escaping in one place.

    render_report(result)         an edit's report.html (references the PNGs beside it)
    render_compare_page(result)   `f2f compare`'s report.html
    compare_html(result)          a comparison in a notebook: the notice, the grid, the table
    tiny_notice_html(), metrics_html(...), path_measures_html(...), ...: the notebooks' snippets

Callers hand over their objects and get strings back; every piece of text that came from
a user, a model or a file passes through `escape` here, and nowhere else. The notebook
widgets (`f2f_lab.widgets`, `manifold.widgets`) keep their widget logic and take their
HTML strings from this module.
"""

from __future__ import annotations

import base64
import io
from html import escape as _escape
from typing import Any

from .metrics import clip_score_header
from .presets import TINY_NOTICE

# One look for every page the package writes.
PAGE_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
.notice { background: #fff3cd; border: 2px solid #e0a800; padding: 0.8em 1em; font-weight: 600; }
.pair { display: flex; gap: 2em; align-items: flex-start; }
.pair figure { margin: 0; } img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; } table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
"""
# The tiny-mode warning in a notebook: a loud yellow box.
BANNER_STYLE = (
    "background:#fff3cd;border:2px solid #e0a800;border-radius:4px;padding:6px 10px;"
    "font-weight:600;color:#5c4400;line-height:1.35"
)
# How the paper names its metrics (Tables 1 and 2), with the better direction.
# The CLIP score is the default scorer's CLIPScore convention (f2f_lab.metrics), as the tables label it.
METRIC_LABELS = {
    "source_lpips": "source LPIPS &darr;", "source_clip_i": "source CLIP-I &uarr;",
    "clip_score": "target CLIP (2.5&middot;max(cos,0)) &uarr;", "clip_score_cosine": "CLIP cosine (raw)",
    "target_lpips": "target LPIPS &darr;", "target_clip_i": "target CLIP-I &uarr;",
}


def escape(value: Any) -> str:
    """Text (or anything, as `str`) made safe inside HTML, quotes included."""
    return _escape(str(value))


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{PAGE_STYLE}</style></head><body>
{body}
</body></html>
"""


def _notice(tiny: bool) -> str:
    return f'<p class="notice">{escape(TINY_NOTICE)}</p>' if tiny else ""


# -- An edit's report.html ------------------------------------------------------------------


def render_report(result) -> str:
    """An edit's one-page report: source, captions, strip, chosen frame, timings (`EditResult.save`)."""
    record = result.record
    selection = record.get("selection", {})
    timing_rows = "".join(f"<tr><td>{escape(k)}</td><td>{v:.2f} s</td></tr>" for k, v in result.timings.items())
    metric_rows = ""
    if result.metrics:
        metric_rows = "<h2>Metrics</h2><table>" + "".join(
            f"<tr><td>{escape(k)}</td><td>{v:.3f}</td></tr>" for k, v in result.metrics.items()
        ) + "</table>"
    if result.index == 0:
        chosen, verdict = "the source", f"none of the {len(result.frames)} frames completes the edit, so the source is kept"
    else:
        chosen, verdict = f"frame {result.index}", f"frame {result.index} of {len(result.frames)}"
    return _page(f"Frame2Frame edit: {result.target}", f"""<h1>Frame2Frame edit</h1>
{_notice(result.tiny)}
<p><b>Target caption:</b> {escape(result.target)}<br>
<b>Temporal caption</b> ({escape(record.get("caption", {}).get("captioner", ""))}): {escape(result.caption)}<br>
<b>Chosen:</b> {escape(verdict)}, by the {escape(selection.get("selector", ""))} selector;
seed {result.seed}; preset {escape(record.get("preset", {}).get("name", ""))}.</p>
<div class="pair">
<figure><img src="source.png" alt="source"><figcaption>Source</figcaption></figure>
<figure><img src="edited.png" alt="edit"><figcaption>Edit ({escape(chosen)})</figcaption></figure>
</div>
<h2>The pathway</h2>
<figure><img src="strip.png" alt="frame strip"><figcaption>The source (0) and the {len(result.tile_indices)} frames
the selector saw ({escape(", ".join(map(str, result.tile_indices)))}); the chosen one is outlined in orange. Full video: <a href="video.mp4">video.mp4</a>.</figcaption></figure>
<h2>What the selector saw</h2>
<figure><img src="collage.png" alt="selection collage" style="max-width:600px"></figure>
<h2>Timings</h2><table>{timing_rows}</table>
{metric_rows}
<p>Everything the run did is in <a href="record.json">record.json</a>.</p>""")


# -- `f2f compare` ----------------------------------------------------------------------------


def render_compare_page(result) -> str:
    """The comparison's page (`compare.CompareResult`): the grid, the table, what drove each edit; it
    references the files beside it."""
    links = "".join(f'<li><a href="{escape(m)}/record.json">{escape(m)}/record.json</a>'
                    f'{" (read back from an earlier run)" if run.reused else ""}</li>' for m, run in result.runs.items())
    return _page(f"Comparison: {result.caption}", f"""<h1>Every method on one photo</h1>
{_notice(result.tiny)}
<p><b>Target caption:</b> {escape(result.caption)}<br>
<b>Seed</b> {result.seed} for every method; preset {escape(result.preset)}. Every edit is at the same output
geometry (longer side 512 px) and scored against the same source and caption.</p>
<figure><img src="grid.png" alt="source and edits"><figcaption>The source, then each method's edit.</figcaption></figure>
<h2>Metrics</h2>
{compare_table_html(result)}
<p>Rows for ChronoEdit, FLUX.1 Kontext and Qwen-Image-Edit have no numbers in the paper to compare with: the
paper predates them. The instruction editors get an instruction derived from the caption (how: in each row).
The table is also in <a href="metrics.csv">metrics.csv</a> and <a href="metrics.json">metrics.json</a>.</p>
<h2>Records</h2><ul>{links}</ul>""")


def compare_table_html(result) -> str:
    """The comparison's metrics table, one row per method."""
    header = ("Method", "Source LPIPS ↓", "Source CLIP-I ↑", clip_score_header(result.scorer or None), "Driven by", "Seconds")
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in (
            row["name"] + ("" if row["in_paper"] else " *"), _fmt(row["source_lpips"]), _fmt(row["source_clip_i"]),
            _fmt(row["clip_score"]), f"{row['prompt_kind']}: {row['prompt']}",
            "read back" if row["reused"] else _fmt(row["seconds"], 1))) + "</tr>"
        for row in result.rows
    )
    note = "<p><small>* not in the paper: no published numbers to compare with.</small></p>" \
        if any(not row["in_paper"] for row in result.rows) else ""
    return "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + f"</tr>{body}</table>{note}"


def compare_html(result) -> str:
    """A comparison in a notebook: the tiny notice, the grid (inline) and the table."""
    notice = tiny_notice_html() if result.tiny else ""
    picture = f'<img src="data:image/png;base64,{_png_base64(result.grid)}" style="max-width:100%">' if result.grid else ""
    return f"{notice}{picture}{compare_table_html(result)}<p><small>Files in {escape(result.out)}</small></p>"


def _fmt(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _png_base64(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# -- Notebook snippets ------------------------------------------------------------------------


def tiny_notice_html(text: str = TINY_NOTICE) -> str:
    """The yellow box of the tiny-mode warning, as HTML."""
    return f'<div style="{BANNER_STYLE}">{escape(text)}</div>'


def paragraph_html(text: str) -> str:
    """Plain text as one HTML paragraph."""
    return f"<p>{escape(text)}</p>"


def metrics_html(metrics: dict[str, float] | None, note: str = "") -> str:
    """A small HTML table of an edit's metrics, labelled as the paper names them; `note` in italics below."""
    if not metrics:
        return f"<i>{escape(note)}</i>" if note else ""
    rows = "".join(
        f"<tr><td style='padding:1px 10px 1px 0'>{METRIC_LABELS.get(k, escape(k))}</td>"
        f"<td style='text-align:right'>{v:.3f}</td></tr>" if isinstance(v, (int, float))
        else f"<tr><td>{METRIC_LABELS.get(k, escape(k))}</td><td>{escape(v)}</td></tr>"
        for k, v in metrics.items()
    )
    extra = f"<div><i>{escape(note)}</i></div>" if note else ""
    return f"<b>Metrics</b><table style='font-size:0.92em'>{rows}</table>{extra}"


def path_measures_html(space: str, summary: dict[str, Any], header, rows) -> str:
    """`manifold.PathMeasures` in a notebook: the summary, then one row per frame (chosen and edit rows in bold)."""
    summary_rows = "".join(
        f"<tr><th style='text-align:left'>{escape(k)}</th><td style='text-align:left'>"
        f"{escape(f'{v:.3f}' if isinstance(v, float) else v)}</td></tr>"
        for k, v in summary.items()
    )
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr" + (" style='font-weight:bold'" if "(chosen)" in r[0] or not r[0][:1].isdigit() else "") + ">"
        + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return (f"<p><b>Path measures</b> (Euclidean distances in {'CLIP feature space' if space == 'features' else 'the PCA plane'})</p>"
            f"<table>{summary_rows}</table><br><table><tr>{head}</tr>{body}</table>")


def filter_header_html(label: str, colour: str, prompt: str) -> str:
    """The head of one set's tab in the manifold study's hand filter."""
    return f"<b style='color:{escape(colour)}'>{escape(label)}</b>: “{escape(prompt)}” — reject images that do not show it."


def filter_saved_html(path, count: int) -> str:
    """What the hand filter says after saving."""
    return f"Saved to <code>{escape(path)}</code>: {count} image(s) rejected."


def path_frame_html(k: int, last: int, chosen: int | None, row: dict | None = None) -> str:
    """The caption beside the manifold path explorer's frame: which frame, and its measures when given."""
    text = f"<b>frame {k}</b> of {last}" + (" — the Frame2Frame edit" if k == chosen else "")
    if row is not None:
        text += (f"<br>closest cluster: <b>{escape(row['closest cluster'])}</b>"
                 f"<br>nearest natural image: {row['nearest natural image']:.3f}")
        if "natural / noise" in row:
            text += f"<br>natural / noise: {row['natural / noise']:.2f} (below 1: on the manifold)"
    return text
