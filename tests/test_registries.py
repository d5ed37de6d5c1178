"""Every registry agrees with the others wherever their keys must be the same.

One kind of model, one registry: the video backends (`video.BACKENDS`) and the editors
(`editors.EDITORS`) are the lists; the tables that serve them elsewhere (their tiny and
full-size stand-ins, the GPU check's items, the per-backend presets, the CLI's choices) are
checked here against those lists, so a backend or editor added in one place and forgotten in
another fails one test naming the place.
"""

from f2f_lab.captions import CAPTIONERS
from f2f_lab.cli import build_parser
from f2f_lab.editors import EDITORS, METHODS, PEER_METHODS
from f2f_lab.gpu_check import backend_items, peer_items
from f2f_lab.loading import STAND_INS
from f2f_lab.presets import PRESETS
from f2f_lab.selection import SELECTORS
from f2f_lab.stand_ins import VIDEO_KEYS, full_size, video_configs
from f2f_lab.stand_ins.tiny_video import TINY_BACKENDS
from f2f_lab.video import ADAPTERS, BACKENDS

PAPER_BACKEND = "cogvideox"  # its tables predate the others' (stand_ins.configs, GPU check items 1-3)


def _choices(*command: str, flag: str) -> set[str]:
    parser = build_parser()
    for name in command:
        parser = next(a for a in parser._actions if a.dest in ("command", "bench_command", "manifold_command",
                                                                "toy_command") and a.choices and name in a.choices).choices[name]
    return set(next(a for a in parser._actions if flag in a.option_strings).choices)


def test_every_video_backend_table_has_the_same_keys():
    keys = set(BACKENDS)
    others = keys - {PAPER_BACKEND}
    tables = {
        "stand_ins.VIDEO_KEYS": set(VIDEO_KEYS),
        "registered tiny stand-ins": {k.removeprefix("video:") for k in STAND_INS["tiny"] if k.startswith("video:")},
        "stand_ins.full_size.MODELS": set(full_size.MODELS) & keys,
        "presets (one per backend)": set(PRESETS) & keys | {PAPER_BACKEND},
        "f2f edit --video-model": _choices("edit", flag="--video-model"),
    }
    for name, table in tables.items():
        assert table == keys, f"{name} differs from video.BACKENDS: {sorted(table ^ keys)}"
    later = {
        "stand_ins.tiny_video.TINY_BACKENDS": set(TINY_BACKENDS),
        "stand_ins.video_configs.BACKENDS": set(video_configs.BACKENDS),
        "stand_ins.video_configs.PIPELINES": set(video_configs.PIPELINES),
        "stand_ins.video_configs.PUBLISHED_PARAMETERS": set(video_configs.PUBLISHED_PARAMETERS),
        "gpu_check.backend_items.ORDER": set(backend_items.ORDER),
        **{f"gpu_check.backend_items.GUESS[{size}]": set(guess) for size, guess in backend_items.GUESS.items()},
    }
    for name, table in later.items():
        assert table == others, f"{name} differs from video.BACKENDS without {PAPER_BACKEND}: {sorted(table ^ others)}"
    assert {b.family for b in BACKENDS.values()} == set(ADAPTERS)
    assert set(backend_items.DROPOUT_BACKENDS) <= keys


def test_every_editor_table_has_the_same_keys():
    assert list(EDITORS) == list(METHODS)
    for command in (("edit",), ("bench", "tedbench"), ("bench", "posedit")):
        assert _choices(*command, flag="--method") == set(METHODS), command
    stand_ins = {cls.stand_in for method, cls in EDITORS.items() if method != "f2f"}
    assert stand_ins <= set(STAND_INS["tiny"]), sorted(stand_ins - set(STAND_INS["tiny"]))
    assert set(peer_items.ORDER) == set(PEER_METHODS)
    for size, guess in peer_items.GUESS.items():
        assert set(guess) == set(PEER_METHODS), size


def test_every_stage_registry_is_the_cli_s_list():
    assert _choices("edit", flag="--captioner") == set(CAPTIONERS)
    assert _choices("edit", flag="--selector") == set(SELECTORS)
    assert "toy" in SELECTORS and PRESETS["toy"].selector == "toy"  # an add-on's registration reaches the CLI
