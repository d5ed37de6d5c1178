"""The package's structure: no import cycle among its modules, and lazy imports only where they pay.

Imports are read from the source (top level and inside functions), not by importing, so a
cycle closed through an import written inside a function is found too.

Lazy imports: an import of one of our own modules inside a function is allowed only when that
module loads a heavy library (torch, diffusers, transformers, open_clip, ...) when it is
imported, directly or through our modules it imports at the top. Everything else is imported
at the top, where a reader sees it and where a cycle cannot hide.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "f2f_lab"
# Libraries that take a second or more to import, or pull in a GPU stack or a widget front end.
HEAVY = {"torch", "torchvision", "diffusers", "transformers", "accelerate", "open_clip", "lpips", "sklearn",
         "matplotlib", "ipywidgets", "IPython", "openai", "imageio", "peft", "safetensors", "tokenizers", "scipy",
         "cv2", "psutil", "nbformat", "nbclient", "playwright", "huggingface_hub", "sentencepiece"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "data" in parts[1:2]:  # bundled data (a script that draws the example images) is not the package
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _targets(module: str, node: ast.AST, is_package: bool) -> tuple[list[str], list[str]]:
    """(our modules, third-party top-level names) that an import statement names."""
    ours, theirs = [], []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module
        names = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in MODULES else stem for alias in node.names]
    for name in names:
        if name.split(".")[0] != "f2f_lab":
            theirs.append(name.split(".")[0])
            continue
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            ours.append(name)
            # Importing f2f_lab.a.b runs f2f_lab/a/__init__.py first, unless the importer lies inside
            # f2f_lab.a (its package is being imported already; so is the root package).
            ours += [p for p in (".".join(name.split(".")[:i]) for i in range(2, name.count(".") + 1))
                     if p != module and not module.startswith(p + ".")]
    return ours, theirs


def _read_graph():
    """(every import edge, top-level edges, lazy edges with line numbers, heavy libraries imported at the top)."""
    edges, top, lazy, heavy_top = defaultdict(set), defaultdict(set), [], defaultdict(set)
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"

        def visit(node, inside_function: bool):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    ours, theirs = _targets(module, child, is_package)
                    for target in ours:
                        edges[module].add(target)
                        (lazy.append((module, target, child.lineno)) if inside_function else top[module].add(target))
                    if not inside_function:
                        heavy_top[module].update(set(theirs) & HEAVY)
                visit(child, inside_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

        visit(tree, False)
    return edges, top, lazy, heavy_top


def _cycles(edges) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def connect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in list(MODULES):
        if module not in index:
            connect(module)
    return found


def _loads_heavy(top, heavy_top) -> dict[str, bool]:
    """Whether importing each module loads a heavy library (itself, a parent package, or our modules it imports at the top)."""
    memo: dict[str, bool] = {}

    def heavy(module, seen=()):
        if module in memo:
            return memo[module]
        if module in seen:
            return False
        parents = [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]
        result = bool(heavy_top[module]) or any(heavy(m, seen + (module,)) for m in [*top[module], *parents] if m in MODULES)
        memo[module] = result
        return result

    return {module: heavy(module) for module in MODULES}


def test_the_package_has_no_import_cycle():
    edges, _, _, _ = _read_graph()
    assert _cycles(edges) == []


def test_the_cycle_check_finds_a_cycle_closed_inside_a_function():
    edges = defaultdict(set, {"f2f_lab.a": {"f2f_lab.b"}, "f2f_lab.b": {"f2f_lab.c"}, "f2f_lab.c": {"f2f_lab.a"}})
    global MODULES
    saved, MODULES = MODULES, {**MODULES, "f2f_lab.a": None, "f2f_lab.b": None, "f2f_lab.c": None}
    try:
        assert ["f2f_lab.a", "f2f_lab.b", "f2f_lab.c"] in _cycles(edges)
    finally:
        MODULES = saved


def test_our_modules_are_imported_lazily_only_where_a_heavy_library_stays_lazy():
    _, top, lazy, heavy_top = _read_graph()
    loads_heavy = _loads_heavy(top, heavy_top)
    needless = sorted(f"{MODULES[m].relative_to(PACKAGE.parent)}:{line} imports {t} inside a function"
                      for m, t, line in lazy if not loads_heavy[t])
    assert needless == [], "import these at the top (they load no heavy library):\n" + "\n".join(needless)
