"""`affectllm benchmark`: from a checkpoint (or the cue path) and prepared manifests to the paper table.

``suites`` says which datasets a suite holds and how each is scored, ``baselines`` writes
constant predictions, ``runner`` predicts through the caption engine, scores with
``affectllm.eval`` and writes the ``eval report`` table, JSON and chart.
"""

from affectllm.benchmark.baselines import Baseline, parse_baselines
from affectllm.benchmark.runner import ModelSpec, run_benchmark
from affectllm.benchmark.suites import DATASETS, SUITES, suite_sources

__all__ = ["Baseline", "DATASETS", "ModelSpec", "SUITES", "parse_baselines", "run_benchmark", "suite_sources"]
