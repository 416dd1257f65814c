"""`affectllm train CONFIG.yaml [key=value ...]`: train on one process (or under a launcher).

Several processes, GPUs or nodes: `deepspeed --num_gpus N train/train.py --config CONFIG.yaml`
or `torchrun --nproc_per_node N train/train.py --config CONFIG.yaml` run this same command.
"""

from __future__ import annotations

import argparse
import json

NAME = "train"
HELP = "train an AffectLLM (adapter alignment or chain-of-thought SFT) from a YAML config"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from affectllm.config.shipped import shipped_configs

    parser.add_argument("config", nargs="?", help="training YAML, or the name of a config shipped with affectllm "
                                                  f"({', '.join(shipped_configs())})")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="config overrides with dotted keys, e.g. train.lr=1e-4 data.train=my.jsonl")
    parser.add_argument("--config", dest="config_flag", metavar="CONFIG.yaml", help="same as the positional CONFIG")
    parser.add_argument("--resume", nargs="?", const=True, default=False, metavar="CHECKPOINT",
                        help="continue from the newest checkpoint in train.output_dir (or from CHECKPOINT)")
    # the deepspeed launcher appends --local_rank=N; the rank is read from the environment
    parser.add_argument("--local_rank", "--local-rank", type=int, default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from affectllm.cli._quiet import quiet_libraries
    from affectllm.checkpoint.layout import config_file
    from affectllm.config.schema import load_config
    from affectllm.core.errors import ConfigError

    config = args.config_flag or args.config
    overrides = list(args.overrides)
    if args.config_flag and args.config:  # `--config X a=b`: the positional slot caught an override
        overrides.insert(0, args.config)
    if not config:
        raise ConfigError("give a training config: affectllm train train/configs/stage2_sft.yaml")
    if "=" in config:
        raise ConfigError(f"'{config}' looks like an override; put the config YAML first")
    cfg = load_config(config_file(config), overrides)
    quiet_libraries()

    from affectllm.training.trainer import train

    summary = train(cfg, resume=args.resume)
    if summary.get("is_main", True):
        losses = summary["losses"]
        print(json.dumps({"final": summary["final"], "steps": summary["steps"],
                          "first_loss": losses[min(losses)] if losses else None,
                          "last_loss": losses[max(losses)] if losses else None,
                          "dropped": summary["dropped"], **({"eval_loss": summary["eval_loss"]}
                                                              if "eval_loss" in summary else {}),
                          **({"best": summary["best"]} if summary.get("best") else {}),
                          **({"first_reward": summary["rewards"][min(summary["rewards"])],  # GRPO: mean weighted reward
                              "last_reward": summary["rewards"][max(summary["rewards"])]} if summary.get("rewards")
                             else {})}))
    return 0
