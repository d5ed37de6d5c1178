"""The editor contract: one registry every method list is read from, one loader, one result base and record header."""

import argparse
from dataclasses import fields

import diffusers
import pytest

from f2f_lab import Frame2Frame
from f2f_lab.editors import (
    BASELINE_METHODS,
    EDITORS,
    METHODS,
    PEER_METHODS,
    TABLE_NAMES,
    BaselineEditor,
    Editor,
    ImageEditResult,
    make_editor,
)
from f2f_lab.errors import F2FError
from f2f_lab.loading import STAND_INS
from f2f_lab.results import EditResult, EditResultBase, record_header

SINGLE_STEP = [method for method in METHODS if method != "f2f"]


def _choices(parser: argparse.ArgumentParser, command: tuple[str, ...], flag: str):
    """The choices of `flag` on the (sub)command `command` of `parser`."""
    for name in command:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return next(a for a in parser._actions if flag in a.option_strings).choices


# -- one registry ---------------------------------------------------------------------------


def test_the_registry_holds_every_method_in_the_published_order():
    assert METHODS == ("f2f", "sdedit", "ledits", "flowedit", "pix2pix-zero", "chronoedit", "kontext", "qwen-edit")
    assert METHODS == tuple(EDITORS) == ("f2f", *BASELINE_METHODS, *PEER_METHODS)
    assert EDITORS["f2f"] is Frame2Frame
    for method in SINGLE_STEP:
        assert issubclass(EDITORS[method], BaselineEditor) and EDITORS[method].method == method


def test_every_method_list_is_read_from_the_registry():
    from f2f_lab.bench.posedit import SOURCE_DESCRIBED_METHODS
    from f2f_lab.bench.tables import METHOD_NAMES, PEER_MODELS
    from f2f_lab.cli import build_parser
    from f2f_lab.compare import DEFAULT_COMPARE_METHODS, NOT_IN_PAPER
    from f2f_lab.gpu_check.other_paths import BASELINE_STEPS
    from f2f_lab.gpu_check.peer_items import FULL_PIPELINES, GUESS, HUB_IDS, ORDER
    from f2f_lab.manifold.study import SINGLE_STEP_METHOD

    parser = build_parser()
    for command in (("edit",), ("demo",), ("bench", "tedbench"), ("bench", "posedit")):
        assert tuple(_choices(parser, command, "--method")) == METHODS, command
    assert set(EDITORS) <= set(METHOD_NAMES) and all(METHOD_NAMES[m] == TABLE_NAMES[m] for m in EDITORS)
    assert PEER_MODELS == {TABLE_NAMES[m] for m in PEER_METHODS}
    assert tuple(NOT_IN_PAPER) == PEER_METHODS and set(DEFAULT_COMPARE_METHODS) <= set(METHODS)
    assert set(SOURCE_DESCRIBED_METHODS) == {"pix2pix-zero", "flowedit"}  # the two that need a source caption
    assert {method for method, _ in BASELINE_STEPS} == set(BASELINE_METHODS)
    assert set(ORDER) == set(FULL_PIPELINES) == set(HUB_IDS) == set(PEER_METHODS)
    assert all(set(guess) == set(PEER_METHODS) for guess in GUESS.values())
    assert {m: HUB_IDS[m] for m in PEER_METHODS} == {m: EDITORS[m].paper.model for m in PEER_METHODS}
    assert SINGLE_STEP_METHOD in METHODS


def test_an_unknown_method_names_the_registry():
    with pytest.raises(F2FError, match="Unknown method 'imagic'. Choose one of: f2f, sdedit"):
        make_editor("imagic", preset="tiny")


# -- one contract, one loader ---------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_every_editor_keeps_the_contract(method):
    editor = EDITORS[method]
    assert issubclass(editor, Editor)  # from_preset and edit
    assert TABLE_NAMES[method]


@pytest.mark.parametrize("method", SINGLE_STEP)
def test_every_single_step_editor_declares_its_pipeline_as_data(method):
    editor = EDITORS[method]
    assert "load_pipe" not in vars(editor)  # the one loader of base.py serves them all
    assert editor.title and editor.description
    assert hasattr(diffusers, editor.pipeline_class)
    assert editor.stand_in in STAND_INS["tiny"]  # its tiny model is registered under its stand-in key
    assert editor.tiny.model == "tiny" and editor.paper.model != "tiny"
    assert {"model"} <= {f.name for f in fields(editor.paper)}
    if editor.pipeline_scheduler is not None:
        assert hasattr(diffusers, editor.pipeline_scheduler[0])


# -- one result base, one record header -----------------------------------------------------


def test_both_results_share_one_base_and_one_save():
    assert issubclass(EditResult, EditResultBase) and issubclass(ImageEditResult, EditResultBase)
    shared = {f.name for f in fields(EditResultBase)}
    assert shared == {"source", "target", "seed", "source_output", "timings", "record", "tiny", "metrics"}
    assert shared <= {f.name for f in fields(EditResult)} and shared <= {f.name for f in fields(ImageEditResult)}
    assert "save" not in vars(ImageEditResult)
    assert ImageEditResult.files == ("source.png", "edited.png", "record.json")


def test_the_record_header_opens_every_record(tmp_path):
    from PIL import Image

    from f2f_lab import __version__
    from f2f_lab.presets import TINY_NOTICE

    source = Image.new("RGB", (40, 30), (10, 20, 30))
    header = record_header("sdedit", source, "A photo of a cat yawning.", tiny=True)
    assert list(header) == ["f2f_lab", "method", "notice", "inputs"]
    assert header["f2f_lab"] == __version__ and header["notice"] == TINY_NOTICE
    assert header["inputs"]["image_size"] == [40, 30] and header["inputs"]["target"] == "A photo of a cat yawning."
    assert record_header("f2f", source, "x", tiny=False)["notice"] is None
