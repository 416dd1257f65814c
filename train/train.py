"""Multi-process training launcher.

    deepspeed --num_gpus 8 train/train.py --config train/configs/stage2_sft.yaml [key=value ...]
    deepspeed --hostfile hosts --num_nodes 2 --num_gpus 8 train/train.py --config train/configs/stage2_sft.yaml
    torchrun --nproc_per_node 8 train/train.py --config train/configs/stage2_sft.yaml
    add --resume to continue the newest checkpoint of train.output_dir

It is `affectllm train` under a launcher; ZeRO settings come from train.deepspeed
(train/ds/zero2.json, zero3.json, zero3_offload.json).
"""

import sys

from affectllm.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
