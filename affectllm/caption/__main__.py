"""`python -m affectllm.caption PATH... --out OUT.jsonl [...]`: the same as `affectllm caption`.

Handy under launchers: `torchrun --nproc_per_node 8 -m affectllm.caption clips/ --out out.jsonl --model ckpt/`.
"""

import sys

from affectllm.cli import main

if __name__ == "__main__":
    sys.exit(main(["caption", *sys.argv[1:]]))
