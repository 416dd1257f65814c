"""`affectllm eval TASK --pred P.jsonl --gold G.jsonl` (TASK: ov, basic, sentiment, vad, closed, grounding, cause-span,
cause-pair) and `affectllm eval report`.

    affectllm eval ov --pred preds.jsonl --gold gold.jsonl --wheel-dir ../shared/emotion_wheel --json
    affectllm eval vad --pred preds.jsonl --gold iemocap.jsonl
    affectllm eval cause-span --pred reccon_preds.jsonl --gold reccon_test.jsonl --json
    affectllm eval report runs/a/mer2023.jsonl runs/b/mer2023.jsonl --gold gold/mer2023.jsonl --out report/
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from affectllm.eval import EvalOptions

NAME = "eval"
HELP = ("Score predictions: emotion-wheel F1 (ov), hit rate (basic), sentiment WAF, CCC/Pearson/MAE (vad), closed-set, "
        "grounding, RECCON cause spans and cause pairs; or a report table.")

_TASK_HELP = {
    "ov": 'open-vocabulary emotion-wheel F1/precision/recall (gold: {"id","emotions":[...]})',
    "basic": 'hit rate of a basic-emotion gold label (gold: {"id","label"})',
    "sentiment": 'polarity accuracy and weighted F1 (gold: {"id","valence"})',
    "vad": 'CCC, Pearson and MAE per dimension on the gold scale (gold: {"id","vad","vad_scale"} or {"id","valence",...})',
    "closed": 'closed-set accuracy and weighted F1 (gold: {"id","label"})',
    "grounding": "share of cues cited in explanations that exist in the record's cues (no gold)",
    "cause-span": 'RECCON causal span extraction: exact match and token F1 (gold: {"id","target_turn","cause_spans"})',
    "cause-pair": 'RECCON causal emotion entailment: cause / not-cause F1 per candidate turn (gold as cause-span)',
}


# which option groups each task reads; a task shows only its own flags in --help
_TASK_FLAGS = {
    "ov": ("wheel", "strict", "source"), "basic": ("wheel", "strict", "source"), "sentiment": ("strict", "source"),
    "vad": ("source",), "closed": ("source",), "grounding": (), "cause-span": (), "cause-pair": (),
    "report": ("wheel", "strict", "source"),
}
_DEFAULTS = {"wheel_dir": None, "strict": False, "source": "auto", "level": "family", "extractor": "discourse",
             "extractor_decoding": "greedy"}


def _wheel_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wheel-dir", help="folder with the official MER-UniBench wheel files (official mode); default: our own vocabulary")
    p.add_argument("--level", choices=("family", "word"), default="family", help="default mode: score families or canonical words")


def _strict_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--strict", action="store_true", help="sane variant of the reference's quirks (see docs/evaluation.md)")


def _source_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", choices=("auto", "emotions", "explanation"), default="auto",
                   help="prediction emotions from the 'emotions' list, the free-text 'explanation', or the list when non-empty (auto)")
    p.add_argument("--extractor", default="discourse",
                   help="free-text extractor: 'discourse' (deterministic rules, default), 'lexicon' (first-generation rules) "
                        "or a local instruct model folder (LLM judge with the reference's extraction prompt)")
    p.add_argument("--extractor-decoding", choices=("greedy", "reference"), default="greedy",
                   help="LLM judge decoding: greedy (repeatable) or the reference's sampling (temperature 0.7, top-p 0.8, seeded)")


_FLAG_GROUPS = {"wheel": _wheel_flags, "strict": _strict_flag, "source": _source_flags}


def add_scoring_arguments(p: argparse.ArgumentParser, task: str = "report") -> None:
    """The scoring flags ``task`` reads (``report``: all of them, as a benchmark scores every task) and --json."""
    p.set_defaults(**_DEFAULTS)
    for group in _TASK_FLAGS[task]:
        _FLAG_GROUPS[group](p)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="task", metavar="TASK")
    sub.required = True
    for task, text in _TASK_HELP.items():
        p = sub.add_parser(task, help=text, description=text)
        p.add_argument("--pred", required=True, help="prediction JSONL (result records or {id, emotions})")
        if task != "grounding":
            p.add_argument("--gold", required=True, help="gold JSONL")
            p.add_argument("--out", metavar="DIR",
                           help=f"also write DIR/{task}.json (scores, samples scored and skipped, 95 %% bootstrap "
                                "intervals, per-class table, confusion matrix) and, for closed-set and sentiment, "
                                f"DIR/{task}_confusion.png")
        add_scoring_arguments(p, task)
    p = sub.add_parser("report", help="one table across datasets (markdown + JSON) and a bar chart")
    p.add_argument("results", nargs="+", help="prediction JSONL files, named after their dataset's gold file")
    p.add_argument("--gold", nargs="+", required=True, help="gold JSONL files (file name = dataset name)")
    p.add_argument("--out", help="folder for report.md, report.json and report.png")
    add_scoring_arguments(p)


def scoring_options(args) -> "EvalOptions":
    """The EvalOptions the scoring flags ask for (an LLM judge folder loads here)."""
    from functools import partial

    from affectllm.emotions import extract_labels
    from affectllm.eval import EvalOptions

    extractor = None  # the discourse extractor ("rule" is its old name)
    if args.extractor == "lexicon":
        extractor = partial(extract_labels, method="lexicon")
    elif args.extractor not in ("discourse", "rule"):
        from affectllm.eval.llm_extractor import LLMEmotionExtractor

        extractor = LLMEmotionExtractor(args.extractor, decoding=args.extractor_decoding)
    return EvalOptions(wheel_dir=args.wheel_dir, strict=args.strict, source=args.source, level=args.level, extractor=extractor)


def _prefetch(extractor, records, source: str) -> None:
    """Run an LLM judge in batches over every explanation scoring will ask it about, one by one, later."""
    if not hasattr(extractor, "prefetch"):
        return
    from affectllm.eval.samples import prediction_emotions

    texts: list[str] = []
    for rec in records:
        prediction_emotions(rec, lambda text: texts.append(text) or [], source)
    extractor.prefetch(texts, progress=True)


def _strict_json(data) -> str:
    """JSON as the standard defines it: a NaN score is an error, never a bare ``NaN`` token."""
    from affectllm.core.errors import AffectLLMError

    try:
        return json.dumps(data, allow_nan=False)
    except ValueError:
        raise AffectLLMError("a score came out as NaN or infinite; check the predictions and gold values") from None


def _shown(value) -> str:
    """One score for the text report: floats to 4 places, counts by source, undefined for None."""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return "undefined" if value is None else str(value)


def run(args) -> int:
    from affectllm.eval import evaluate
    from affectllm.eval.samples import read_jsonl

    options = scoring_options(args)
    if args.task == "report":
        from affectllm.eval.report import build_report, confusion_charts, report_chart, report_markdown, report_table

        if hasattr(options.extractor, "prefetch"):
            _prefetch(options.extractor, (r for path in args.results for r in read_jsonl(path, "prediction").values()), args.source)
        table = report_table(build_report(args.results, args.gold, options))
        _strict_json(table)  # before any file is written
        markdown = report_markdown(table)
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            (out / "report.md").write_text(markdown, encoding="utf-8")
            (out / "report.json").write_text(json.dumps(table, indent=2), encoding="utf-8")
            report_chart(table, out / "report.png")
            confusion_charts(table, out / "confusion")
        print(_strict_json(table) if args.json else markdown, end="" if not args.json else "\n")
        return 0

    pred = read_jsonl(args.pred, "prediction")
    gold = {} if args.task == "grounding" else read_jsonl(args.gold, "gold")
    _prefetch(options.extractor, pred.values(), args.source)
    result = evaluate(args.task, gold, pred, options)
    for note in result.notes:
        print(f"affectllm eval {args.task}: note: {note}", file=sys.stderr)
    if getattr(args, "out", None):
        _write_details(Path(args.out), args.task, result)
    if args.json:
        print(_strict_json(result.scores))
    else:
        print(_describe(args.task, result), end="")
    return 0


def _describe(task: str, result) -> str:
    """The text report: scores with their 95 % intervals, samples scored and skipped, the per-class table."""
    counts = result.details.get("counts", {})
    lines = [f"{task} ({result.mode} mode, {counts.get('scored', result.samples)} samples scored, "
             f"{counts.get('skipped', 0)} skipped, {counts.get('missing_predictions', 0)} without a prediction)"]
    ci = result.details.get("ci", {})
    for key, value in result.scores.items():
        for name, v in (value.items() if isinstance(value, dict) else [(None, value)]):
            band = f"  (95 % CI {ci[key][0]:.4f}-{ci[key][1]:.4f})" if name is None and ci.get(key) else ""
            lines.append(f"  {key if name is None else f'{key}.{name}'}: {_shown(v)}{band}")
    per_class = result.details.get("per_class") or {}
    if per_class:
        fields = list(next(iter(per_class.values())))
        lines.append("  per class: " + ", ".join(fields))
        lines += [f"    {label}: " + ", ".join(_shown(row[f]) for f in fields) for label, row in per_class.items()]
    return "\n".join(lines) + "\n"


def _write_details(out: Path, task: str, result) -> None:
    """OUT/TASK.json with everything the text report shows (and the confusion matrix), OUT/TASK_confusion.png."""
    out.mkdir(parents=True, exist_ok=True)
    data = {"task": task, "mode": result.mode, "scores": result.scores, **result.details, "notes": result.notes}
    (out / f"{task}.json").write_text(_strict_json(data) + "\n", encoding="utf-8")
    if result.details.get("confusion"):
        from affectllm.eval.confusion import confusion_chart

        confusion_chart(result.details["confusion"], out / f"{task}_confusion.png", title=f"{task} ({result.mode} mode)")
