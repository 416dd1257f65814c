"""Evaluation: MER-UniBench emotion-wheel scores (official and default mode), sentiment, CCC, closed-set, grounding, report.

Nothing here needs a GPU, a network or scikit-learn. Official mode reads the
MER-UniBench wheel files from a folder the user names; default mode uses
:mod:`affectllm.emotions`.
"""

from affectllm.eval.tasks import MAIN_METRIC, TASKS, EvalOptions, EvalResult, evaluate

__all__ = ["MAIN_METRIC", "TASKS", "EvalOptions", "EvalResult", "evaluate"]
