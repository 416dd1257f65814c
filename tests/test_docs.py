"""The docs are tested where they show commands. README.md and every page of docs/: each relative link
points at a file of this tree (and, with an anchor, at a heading of that page), and each `affectllm`
command in a ```bash block names real sub-commands and real flags, read from the argparse parser the CLI
itself runs (`affectllm.cli.build_parser()`; recipes as `affectllm recipe NAME`). The launch forms that
end in the same parser (`python -m affectllm.caption`, `-m affectllm.train`, `train/train.py`,
`demo/app.py`) are checked as the sub-command they run. Also: every `make` target shown exists, every
script or config shown under the tree's own folders exists, and every ```python block parses.

Nothing is run: the whole file takes a few seconds.
"""

from __future__ import annotations

import argparse
import ast
import re
import shlex
from functools import lru_cache
from pathlib import Path

import pytest

from affectllm.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(([^()\s]+)\)")
HEADING = re.compile(r"^(#{1,6}) +(.+?) *#*$")
# Launch forms that run one sub-command's parser: what follows them is that sub-command's arguments.
LAUNCHERS = {"train/train.py": "train", "demo/app.py": "demo"}
MODULES = {"affectllm.caption": "caption", "affectllm.train": "train"}
# Files a command names that must exist in this tree: scripts and configs under its own folders.
TREE_FILE = re.compile(r"^(benchmarks|train|demo|prompts|data_recipes|affectllm)/[\w./-]+\.(py|ya?ml)$")


def _ids(pages):
    return [str(p.relative_to(REPO)) for p in pages]


def _blocks(text: str, lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(text) if kind == lang]


def _prose(text: str) -> str:
    """The page without fenced blocks and inline code, where links are links."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: markup and punctuation dropped, lower case, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"[^\w\- ]", "", text.replace("`", "").strip().lower())
    return text.replace(" ", "-")


@lru_cache(maxsize=None)
def anchors(page: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
    return frozenset(f"{base}-{i}" if i else base for base, n in seen.items() for i in range(n))


def test_slug_follows_github():
    assert slug("Dimensional head (valence, arousal, dominance)") == "dimensional-head-valence-arousal-dominance"
    assert slug("Zero-setup explanations (cue path)") == "zero-setup-explanations-cue-path"
    assert slug("Quickstart (CPU, no GPU, no downloads)") == "quickstart-cpu-no-gpu-no-downloads"


def test_every_page_is_linked_from_the_readme_and_opens_with_what_it_covers():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = {target.split("#")[0] for target in LINK.findall(_prose(readme))}
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in linked, f"README.md does not link {page.name}"
        lines = page.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# ") and lines[1] == "" and lines[2] and not lines[2].startswith(("#", "```", "|", "- ", "!")), \
            f"{page.name} must open with its title and a paragraph saying what it covers"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_relative_links_point_at_files_and_headings(page):
    broken = []
    for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.is_relative_to(REPO) or not dest.exists():
            broken.append(f"{target}: no such file in this tree")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: {dest.name} has no heading #{anchor}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def _commands(block: str) -> list[list[str]]:
    """The shell commands of a bash block as token lists: continuations joined, comments dropped, split at
    ; && || and |."""
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        current: list[str] = []
        for token in lexer:
            if set(token) <= set(";&|"):
                commands.append(current)
                current = []
            else:
                current.append(token)
        commands.append(current)
    return [c for c in commands if c]


def _affectllm_args(tokens: list[str]) -> list[str] | None:
    """What the command hands to the `affectllm` parser, or None when it does not run it."""
    for i, token in enumerate(tokens):
        if token == "affectllm":
            return tokens[i + 1:]
        if token in LAUNCHERS:
            return [LAUNCHERS[token], *tokens[i + 1:]]
        if token in ("-m", "--module") and i + 1 < len(tokens) and tokens[i + 1] in MODULES:
            return [MODULES[tokens[i + 1]], *tokens[i + 2:]]
    return None


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def check_command(args: list[str]) -> list[str]:
    """What is wrong with `affectllm ARGS` as the parser reads it (sub-commands and flag names only;
    values and positionals are the reader's). A placeholder in capitals (COMMAND, TASK) ends the check."""
    parser, path, problems, chosen = _parser(), ["affectllm"], [], False
    for raw in args:
        token = raw.strip("[]")
        if token.startswith("-") and len(token) > 1:
            flag = token.split("=", 1)[0]
            if flag not in parser._option_string_actions:
                problems.append(f"`{' '.join(path)}` has no flag {flag}")
            continue
        subs = _subparsers(parser)
        if subs and not chosen:
            if token.isupper() or token == "...":
                break
            if token not in subs:
                problems.append(f"`{' '.join(path)}` has no sub-command {token!r}")
                break
            parser, chosen = subs[token], False
            path.append(token)
            continue
        chosen = True  # a positional: the sub-command level is behind us
    return problems


@lru_cache(maxsize=None)
def _parser() -> argparse.ArgumentParser:
    return build_parser()


def test_check_command_finds_what_is_wrong():
    assert check_command(["eval", "ov", "--pred", "p.jsonl", "--gold", "g.jsonl", "[--wheel-dir", "DIR]"]) == []
    assert check_command(["recipe", "meld", "--input", "M", "--text-only", "--context=2", "--out", "o"]) == []
    assert check_command(["COMMAND", "--help"]) == []
    assert check_command(["eval", "ov", "--wheels", "w"]) == ["`affectllm eval ov` has no flag --wheels"]
    assert check_command(["recipe", "melt"]) == ["`affectllm recipe` has no sub-command 'melt'"]
    assert check_command(["caption", "clips/", "--out", "o", "--model", "ckpt/", "--batchsize", "8"]) == [
        "`affectllm caption` has no flag --batchsize"]
    assert _affectllm_args(["torchrun", "--nproc_per_node", "8", "-m", "affectllm.caption", "x", "--out", "o"]) \
        == ["caption", "x", "--out", "o"]
    assert _commands("a --x 1 \\\n  --y 2; affectllm eval ov  # c; d\nmake demo | tee log") == [
        ["a", "--x", "1", "--y", "2"], ["affectllm", "eval", "ov"], ["make", "demo"], ["tee", "log"]]


def _make_targets() -> set[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return {name for line in re.findall(r"^([\w .-]+):(?!=)", text, re.M) for name in line.split()}


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_commands_shown_name_real_subcommands_flags_targets_and_files(page):
    problems, targets, shown = [], _make_targets(), 0
    for block in _blocks(page.read_text(encoding="utf-8"), "bash"):
        for tokens in _commands(block):
            if tokens[0] == "make":
                problems += [f"make has no target {t}" for t in tokens[1:] if "=" not in t and t not in targets]
            problems += [f"{t}: no such file" for t in tokens if TREE_FILE.match(t) and not (REPO / t).exists()]
            args = _affectllm_args(tokens)
            if args is not None:
                shown += 1
                problems += check_command(args)
    assert not problems, f"{page.name}: " + "; ".join(problems)
    if page.name in ("README.md", "evaluation.md", "captioning.md", "training.md"):
        assert shown, f"{page.name} shows no affectllm command any more: is the block still ```bash?"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_python_blocks_parse(page):
    for block in _blocks(page.read_text(encoding="utf-8"), "python"):
        ast.parse(block)


def test_readme_says_make_test_runs_the_suite_and_ci_runs_it():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "`make test` runs the whole suite" in readme and "`.ci/run`" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()[-1]
