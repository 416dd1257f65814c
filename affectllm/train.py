"""`python -m affectllm.train CONFIG.yaml [key=value ...]`: the same as `affectllm train`, for launchers.

Works from a pip install (the configs and ZeRO JSONs ship in the package and are found by name):

    torchrun --nproc_per_node 8 -m affectllm.train stage2_sft train.deepspeed=zero2
    deepspeed --num_gpus 8 --module affectllm.train --config stage2_sft
"""

import sys

from affectllm.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
