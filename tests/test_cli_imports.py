"""The CLI's parser is cheap: building it imports no torch, transformers or gradio.

A cold `affectllm caption` pays for everything the parser imports before it reads the first
clip; torch alone is two CPU-seconds. Each check runs in a fresh interpreter, since this
test process has long imported torch.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "gradio")
PROBE = """
import json, sys
from affectllm.cli import _commands, build_parser
name = sys.argv[1]
build_parser(None if name == "ALL" else name)
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


def _heavy_imports(command: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), command], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout)


def test_caption_parser_imports_no_torch():
    # what `affectllm caption ...` builds before it runs: its own options, the others by name
    assert _heavy_imports("caption") == []


def test_whole_parser_imports_no_torch():
    """Every sub-command's options (what `build_parser()` and `--help` build) come without torch: defaults
    shown in help live in torch-free modules (e.g. affectllm.cues.heads.text_head_config), imports in ``run``."""
    from affectllm.cli import _commands

    heavy = {name: found for name in _commands() if (found := _heavy_imports(name))}
    assert heavy == {}, f"building these sub-commands' options imports {heavy}; move the import into run()"
    assert _heavy_imports("ALL") == []


def test_main_fills_only_the_named_command(capsys):
    from affectllm.cli import build_parser

    parser = build_parser("caption")
    args = parser.parse_args(["caption", "x.mp4", "--out", "o.jsonl"])
    assert args.model == "cues" and args.workers == 2 and args.inputs == ["x.mp4"]
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(build_parser()._actions[-1].choices)  # every command is still listed
