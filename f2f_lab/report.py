"""A one-page HTML report of an edit: source, captions, strip, chosen frame, timings.

The page references the PNGs saved beside it, so a run folder is self-contained and the
page opens from disk in any browser.
"""

from __future__ import annotations

from html import escape

from .presets import TINY_NOTICE

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
.notice { background: #fff3cd; border: 2px solid #e0a800; padding: 0.8em 1em; font-weight: 600; }
.pair { display: flex; gap: 2em; align-items: flex-start; }
.pair figure { margin: 0; } img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; } table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
"""


def render_report(result) -> str:
    record = result.record
    selection = record.get("selection", {})
    notice = f'<p class="notice">{escape(TINY_NOTICE)}</p>' if result.tiny else ""
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
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Frame2Frame edit: {escape(result.target)}</title>
<style>{_STYLE}</style></head><body>
<h1>Frame2Frame edit</h1>
{notice}
<p><b>Target caption:</b> {escape(result.target)}<br>
<b>Temporal caption</b> ({escape(str(record.get("caption", {}).get("captioner", "")))}): {escape(result.caption)}<br>
<b>Chosen:</b> {escape(verdict)}, by the {escape(str(selection.get("selector", "")))} selector;
seed {result.seed}; preset {escape(str(record.get("preset", {}).get("name", "")))}.</p>
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
<p>Everything the run did is in <a href="record.json">record.json</a>.</p>
</body></html>
"""
