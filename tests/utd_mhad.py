"""A fake UTD-MHAD clip for the PosEdit rebuild tests: the layout and motion the rebuild reads, in a few kB."""

from pathlib import Path

import numpy as np


def write_clip(path: Path, peak: int, person_x: int, frames: int = 14) -> None:
    """A 96x64 clip: a standing 'person' (bright bar) whose 'arm' grows until frame `peak`, then shrinks."""
    import imageio.v2 as imageio

    writer = imageio.get_writer(str(path), format="ffmpeg", fps=30, codec="mjpeg", quality=10, macro_block_size=16)
    for t in range(frames):
        frame = np.full((64, 96, 3), 80, np.uint8)
        frame[8:60, person_x - 5:person_x + 5] = 230
        arm = 3 * (peak - abs(t - peak)) if t <= 2 * peak else 0
        frame[20:26, person_x + 5:person_x + 5 + arm] = 20
        writer.append_data(frame)
    writer.close()
