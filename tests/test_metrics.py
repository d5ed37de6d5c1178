"""Metrics: LPIPS, CLIP-I and CLIP score through the real lpips and open_clip classes (tiny weights)."""

import numpy as np
import pytest
from PIL import Image

from f2f_lab.errors import F2FError
from f2f_lab.metrics import Scorer


@pytest.fixture(scope="module")
def scorer():
    return Scorer.from_preset("tiny")


@pytest.fixture(scope="module")
def images(cat_path):
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8))
    cat = Image.open(cat_path).convert("RGB")
    return cat, noise


def test_identical_images_have_lpips_zero_and_clip_i_one(scorer, images):
    cat, noise = images
    for image in (cat, noise):
        assert scorer.lpips(image, image.copy()) == pytest.approx(0.0, abs=1e-6)
        assert scorer.clip_image(image, image.copy()) == pytest.approx(1.0, abs=1e-5)


def test_different_images_are_apart(scorer, images):
    cat, noise = images
    assert scorer.lpips(cat, noise) > 0.01
    assert scorer.clip_image(cat, noise) < 0.999
    # a mild change is nearer than noise
    darker = cat.point(lambda v: int(v * 0.9))
    assert 0 < scorer.lpips(cat, darker) < scorer.lpips(cat, noise)


def test_batched_calls_match_single_calls(scorer, images):
    cat, noise = images
    batched = scorer.lpips([cat, noise], [noise, noise])
    assert batched == pytest.approx([scorer.lpips(cat, noise), 0.0], abs=1e-5)
    texts = ["A photo of a cat.", "Static noise."]
    assert scorer.clip_text([cat, noise], texts) == pytest.approx(
        [scorer.clip_text(cat, texts[0]), scorer.clip_text(noise, texts[1])], abs=1e-5)


def test_score_reports_source_and_target_metrics(scorer, images):
    cat, noise = images
    without = scorer.score(cat, noise, "A photo of a cat.")
    assert set(without) == {"source_lpips", "source_clip_i", "clip_score", "clip_score_cosine"}
    assert without["source_lpips"] == pytest.approx(scorer.lpips(cat, noise), abs=1e-5)
    with_target = scorer.score(cat, noise, "A photo of a cat.", target=noise)
    assert with_target["target_lpips"] == pytest.approx(0.0, abs=1e-6)
    assert with_target["target_clip_i"] == pytest.approx(1.0, abs=1e-5)
    assert with_target["source_lpips"] == pytest.approx(without["source_lpips"], abs=1e-6)


def test_clip_score_is_clipscore_by_default_and_keeps_the_raw_cosine(scorer, images):
    # The paper's 0.63 fits CLIPScore (Hessel et al. 2021): 2.5 * max(cos, 0), not the raw cosine (~0.25).
    cat, _ = images
    result = scorer.score(cat, cat, "A photo of a cat.")
    assert result["clip_score"] == pytest.approx(2.5 * max(result["clip_score_cosine"], 0.0), abs=1e-6)
    assert scorer.clip_text(cat, "A photo of a cat.") == pytest.approx(result["clip_score"], abs=1e-5)
    assert scorer.clip_text(cat, "A photo of a cat.", scaled=False) == pytest.approx(result["clip_score_cosine"], abs=1e-5)
    assert scorer.config()["clip_score"] == "clipscore_w2.5" and scorer.config()["clip_score_scale"] == 2.5
    other_w = Scorer.from_preset("tiny", clip_score_scale=4.0)
    assert other_w.score(cat, cat, "A photo of a cat.")["clip_score"] == pytest.approx(4.0 * max(result["clip_score_cosine"], 0.0), abs=1e-6)
    assert other_w.config()["clip_score"] == "clipscore_w4"


class FixedEncoder:
    """A stand-in CLIP encoder: every image embeds to e0, every caption to (-0.6, 0.8): cosine -0.6."""

    def encode_images(self, images, batch_size):
        return np.tile(np.array([[1.0, 0.0]]), (len(images), 1))

    def encode_texts(self, texts):
        return np.tile(np.array([[-0.6, 0.8]]), (len(texts), 1))


def test_a_negative_cosine_is_clamped_to_zero_and_the_raw_cosine_stays_negative(images):
    cat, _ = images
    clipscore, cosine = Scorer.from_preset("tiny", size=64), Scorer.from_preset("tiny", size=64, clip_score="cosine")
    for each in (clipscore, cosine):
        each._clip = FixedEncoder()
    assert clipscore.clip_score_of(-0.6) == 0.0 and clipscore.clip_score_of(0.3) == pytest.approx(0.75)
    result = clipscore.score(cat, cat, "A photo of a dog.")
    assert result["clip_score"] == 0.0 and result["clip_score_cosine"] == pytest.approx(-0.6)
    assert clipscore.clip_text(cat, "A photo of a dog.") == 0.0
    raw = cosine.score(cat, cat, "A photo of a dog.")
    assert raw["clip_score"] == pytest.approx(-0.6) and raw["clip_score_cosine"] == pytest.approx(-0.6)
    assert cosine.config()["clip_score"] == "raw_cosine" and cosine.config()["clip_score_scale"] == 1.0


def test_clip_score_options_are_checked():
    with pytest.raises(F2FError, match="no scale"):
        Scorer(clip_score="cosine", clip_score_scale=2.5)
    with pytest.raises(F2FError, match="convention"):
        Scorer(clip_score="hessel")
    with pytest.raises(F2FError, match="positive"):
        Scorer(clip_score_scale=0)
    assert Scorer(clip_score="cosine", clip_score_scale=1.0).config()["clip_score"] == "raw_cosine"


def test_lpips_sees_512_pixels_in_minus_one_to_one(scorer):
    batch = scorer._to_lpips_tensor([Image.new("RGB", (40, 30), (0, 0, 0)), Image.new("RGB", (700, 700), (255, 255, 255))])
    assert tuple(batch.shape) == (2, 3, 512, 512)
    assert batch[0].min().item() == -1.0 and batch[1].max().item() == 1.0


def test_paper_preset_uses_vit_b_32_and_loads_nothing_up_front():
    scorer = Scorer.from_preset("paper")  # no download happens here: models load on first use
    assert scorer.config()["clip_model"] == "ViT-B-32" and scorer.config()["clip_pretrained"] == "openai"
    assert scorer.config()["lpips_backbone"] == "imagenet" and scorer.config()["clip_score"] == "clipscore_w2.5"


def test_mismatched_inputs_are_user_errors(scorer, images):
    cat, noise = images
    with pytest.raises(F2FError, match="pairs"):
        scorer.lpips([cat, noise], [cat])
    with pytest.raises(F2FError, match="one caption per image"):
        scorer.clip_text([cat, noise], ["only one"])
    with pytest.raises(F2FError, match="backbone"):
        Scorer(lpips_backbone="vgg-ish")


def test_openai_clip_weights_get_the_quickgelu_they_were_trained_with(monkeypatch):
    # open_clip 3.x builds "ViT-B-32" with plain GELU and only warns when given the "openai" weights.
    import open_clip

    from f2f_lab.clip import load_clip

    seen = {}

    def fake_create(model_name, **kwargs):
        seen[model_name] = kwargs
        raise RuntimeError("no download in tests")

    monkeypatch.setattr(open_clip, "create_model_and_transforms", fake_create)
    for pretrained in ("openai", "laion2b_s34b_b79k"):
        with pytest.raises(F2FError):
            load_clip("ViT-B-32", pretrained, "cpu")
        assert seen["ViT-B-32"]["force_quick_gelu"] is (pretrained == "openai")
