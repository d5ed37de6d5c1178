"""Degraded inputs for the classic tasks of appendix I, and their edit through the tiny pipeline."""

import numpy as np
import pytest
from PIL import Image

from f2f_lab.classic import APPENDIX_I_CAPTIONS, CLASSIC_TASKS, add_noise, blur, get_task, shrink_on_canvas
from f2f_lab.errors import F2FError


def sharpness(image: Image.Image) -> float:
    """Variance of a discrete Laplacian: drops when an image is blurred."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    lap = grey[1:-1, 1:-1] * 4 - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float(lap.var())


def test_blur_keeps_the_size_and_removes_detail(cat_path):
    clean = Image.open(cat_path).convert("RGB")
    blurry = blur(cat_path)
    assert blurry.size == clean.size
    assert sharpness(blurry) < 0.2 * sharpness(clean)


def test_noise_has_the_requested_strength_and_is_seeded(cat_path):
    clean = np.asarray(Image.open(cat_path).convert("RGB"), dtype=np.float32) / 255
    noisy = np.asarray(add_noise(cat_path, sigma=0.1, seed=3), dtype=np.float32) / 255
    # Clipping at 0 and 1 shrinks the spread a little, never grows it.
    assert 0.07 < float((noisy - clean).std()) <= 0.105
    assert np.array_equal(np.asarray(add_noise(cat_path, sigma=0.1, seed=3)), np.asarray(add_noise(cat_path, sigma=0.1, seed=3)))
    with pytest.raises(F2FError):
        add_noise(cat_path, sigma=-1)


def test_outpainting_input_is_the_shrunken_image_on_black(cat_path):
    clean = Image.open(cat_path).convert("RGB")
    framed = np.asarray(shrink_on_canvas(cat_path, scale=0.5))
    assert framed.shape[:2] == (clean.height, clean.width)
    border = clean.width // 8
    assert framed[:, :border].max() == 0 and framed[:border].max() == 0
    centre = framed[clean.height // 2 - 5:clean.height // 2 + 5, clean.width // 2 - 5:clean.width // 2 + 5]
    assert centre.mean() > 5
    with pytest.raises(F2FError):
        shrink_on_canvas(cat_path, scale=1.5)


# Appendix I of arXiv 2411.16819, copied from the paper (its quotes dropped, its apostrophe kept).
PAPER_APPENDIX_I = {
    "relighting": "The scene\u2019s lighting shifts gradually, changing to night. The sun is setting, and artificial "
                  "lights replace it. The camera is static. Time-lapse. Cinematic.",
    "outpainting": "The image expands, adding new surroundings seamlessly beyond the original frame.",
    "denoising": "The image clears up as noise fades away, revealing smoother, cleaner details.",
    "deblurring": "The camera comes into focus, revealing sharp details and enhanced clarity, as though a camera lens "
                  "has adjusted perfectly. Nothing moves. Static image.",
}


def test_every_task_uses_its_appendix_i_caption():
    assert APPENDIX_I_CAPTIONS == PAPER_APPENDIX_I
    assert set(CLASSIC_TASKS) == set(PAPER_APPENDIX_I)
    for name, task in CLASSIC_TASKS.items():
        assert task.name == name and task.caption == PAPER_APPENDIX_I[name] and task.target
    with pytest.raises(F2FError, match="Unknown classic task"):
        get_task("superresolution")


def test_a_classic_task_runs_as_a_temporal_edit(tiny_editor, cat_path):
    task = get_task("denoising")
    noisy = task.degrade(cat_path)
    result = tiny_editor.edit(noisy, task.target, caption=task.caption)
    assert result.caption == task.caption and result.record["caption"]["captioner"] == "given"
    assert result.image.size == (512, 512)
