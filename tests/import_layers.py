"""The package's import graph, read statically (ast), and the layers its top-level packages sit in.

Every import counts, the ones inside functions too (they run when the function does, so they bind the
same way); only ``if TYPE_CHECKING:`` blocks are left out. A package's ``__init__`` runs before any of
its modules, so importing ``a.b.c`` is an edge to ``a.b`` and ``a.b.c`` (but not to the importer's own
parent packages, which are already running).

    .venv/bin/python tests/import_layers.py           # print the layer table and summary docs/architecture.md shows
    .venv/bin/python tests/import_layers.py --write   # put them into docs/architecture.md
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Source folder -> the package name it installs as (pyproject.toml packages / package-dir).
ROOTS = {"affectllm": "affectllm", "data_recipes": "affectllm.recipes", "prompts": "affectllm.prompt_templates"}

# Bottom to top: a unit (affectllm.X, or "affectllm" itself) imports only from its own layer or the ones below.
LAYERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("core", "contracts every layer shares: errors, JSONL, durable writes, records, manifests, media kinds",
     ("core",)),
    ("foundations", "decoding, the emotion vocabulary, reasoning formats and templates, the bundled model files",
     ("media", "emotions", "reasoning", "prompt_templates", "bundled")),
    ("settings and scores", "typed configuration and where its paths point; the field's metrics",
     ("config", "eval")),
    ("models", "encoders, fusion adapters and the AffectLLM model; the zero-setup cue path",
     ("encoders", "fusion", "model", "cues")),
    ("checkpoints", "the checkpoint folder, its trust rules, export and the model card", ("checkpoint",)),
    ("jobs", "training, captioning, dataset recipes, benchmarks, the demo",
     ("training", "caption", "recipes", "benchmark", "demo")),
    ("front", "what users call: the command line, AffectLLM, the launcher entry points; smoke-run helpers",
     ("pretrained", "cli", "__main__", "train", "", "testing")),
)
# Named plugin points: the only imports allowed to go up a layer (importer -> imported module).
PLUGIN_POINTS = {
    ("affectllm.caption.__main__", "affectllm.cli"): "`python -m affectllm.caption` is the caption command",
}


def sources(repo: Path = REPO, roots: dict[str, str] = ROOTS) -> dict[str, Path]:
    """Module name -> file, for every .py file under the roots."""
    modules = {}
    for folder, package in roots.items():
        for path in sorted((repo / folder).rglob("*.py")):
            parts = list(path.relative_to(repo / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every Import / ImportFrom node, outside ``if TYPE_CHECKING:`` blocks (their ``else`` runs)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if _type_checking(node):
            for inner in node.orelse:
                yield from _imports(ast.Module(body=[inner], type_ignores=[]))
        else:
            yield from _imports(node)


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph(modules: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (anywhere in it), with the parent packages that run first."""
    modules = sources() if modules is None else modules
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules.keys()
            targets.update(submodules)
            if len(submodules) < len(node.names):  # a name defined in `base` itself needs it run
                targets.add(base)
        own = set(_ancestors(module))
        graph[module] = {name for target in targets for name in (*_ancestors(target), target)
                         if name in modules and name != module and (name == target or name not in own)}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a path a -> ... -> a) per strongly connected component that has one (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_through(graph, component) for component in components]


def _cycle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """The shortest path from the component's first module back to itself, inside the component."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # a strongly connected component always has one


def unit(module: str) -> str:
    """The top-level package (or module) a module belongs to: affectllm.cues.extractors.face -> "cues"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of() -> dict[str, int]:
    return {name: k for k, (_, _, units) in enumerate(LAYERS) for name in units}


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs that go to a higher layer and are not a named plugin point; a unit that is
    in no layer is reported as importing itself, so a new package must be placed."""
    layers, found = layer_of(), []
    for module, targets in sorted(graph.items()):
        if unit(module) not in layers:
            found.append((module, module))
            continue
        found += [(module, t) for t in sorted(targets) if layers.get(unit(t), len(LAYERS)) > layers[unit(module)]
                  and (module, t) not in PLUGIN_POINTS]
    return found


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    """The longest import path (the graph has no cycle), first module to last."""
    best: dict[str, list[str]] = {}

    def longest_from(node: str) -> list[str]:
        if node not in best:
            tails = [longest_from(nxt) for nxt in sorted(graph[node])]
            best[node] = [node] + max(tails, key=len, default=[])
        return best[node]

    return max((longest_from(node) for node in sorted(graph)), key=len)


def layer_table(graph: dict[str, set[str]]) -> str:
    """The markdown table docs/architecture.md shows: each layer (top first), its packages with their module
    counts, and the packages below it that it imports."""
    counts = Counter(unit(m) for m in graph)
    layers = layer_of()
    rows = ["| layer | packages (modules) | imports from the layers below |", "|---|---|---|"]
    for k in reversed(range(len(LAYERS))):
        name, what, units = LAYERS[k]
        mine = [u for u in units if counts[u]]
        below = sorted({unit(t) for m, ts in graph.items() if unit(m) in mine for t in ts
                        if layers.get(unit(t), k) < k}, key=lambda u: (layers[u], u))
        label = lambda u: f"`{u or 'affectllm'}` ({counts[u]})"  # noqa: E731
        rows.append(f"| **{name}**: {what} | {', '.join(label(u) for u in mine)} | "
                    f"{', '.join(f'`{u}`' for u in below) or '—'} |")
    return "\n".join(rows)


def summary(graph: dict[str, set[str]]) -> str:
    chain = longest_chain(graph)
    return (f"{len(graph)} modules in {len({unit(m) for m in graph})} top-level units, with "
            f"{sum(len(t) for t in graph.values())} import edges. The longest chain of imports is {len(chain)} "
            f"modules long: {' → '.join(m.removeprefix('affectllm.') for m in chain)}.")


def write_page(page: Path, graph: dict[str, set[str]]) -> None:
    """Replace the table (from its header row to the first blank line) and the summary line in ``page``."""
    text = page.read_text(encoding="utf-8")
    start = text.index("| layer |")
    end = text.index("\n\n", start)
    text = text[:start] + layer_table(graph) + text[end:]
    line_start = text.index(" modules in ", start)
    line_start = text.rindex("\n", 0, line_start) + 1
    text = text[:line_start] + summary(graph) + text[text.index("\n", line_start):]
    page.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    import sys

    g = import_graph()
    if sys.argv[1:] == ["--write"]:
        write_page(REPO / "docs" / "architecture.md", g)
    else:
        print(layer_table(g) + "\n\n" + summary(g))
