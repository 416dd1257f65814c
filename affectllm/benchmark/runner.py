"""Run models over prepared manifests, score every dataset with its tasks, write the paper table.

    OUT/predictions/<model>/<dataset>.jsonl   result records, written through the caption engine
                                              (resumable by id, one writer per file, failed inputs retried)
    OUT/report.md, report.json, report.png    the `affectllm eval report` table (95 % intervals, samples scored
                                              and skipped, per-class tables), plus the run's facts
    OUT/confusion/<model>/<column>.png        the confusion matrix of each closed-set and sentiment column

Each model answers each manifest entry's own question (``affectllm.caption``: its turns, subtitle
and media; a transcript when it has no subtitle). Gold is the manifest itself: ``label`` for hit rate
and closed-set, ``emotions`` for wheel F1, ``valence`` for sentiment; a sample without the field a
task needs is left out of that task and counted. Baselines (``affectllm.benchmark.baselines``) are
scored the same way from the same files.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from affectllm.benchmark.baselines import (Baseline, baseline_records, label_baselines, majority_answer,
                                           repeats_majority)
from affectllm.benchmark.suites import DataSource, extra_tasks, gold_tasks
from affectllm.core.dimensions import VAD_DIMENSIONS
from affectllm.core.durable import write_atomic
from affectllm.core.errors import AffectLLMError
from affectllm.eval.report import ReportCell, confusion_charts, report_chart, report_markdown, report_table, slug
from affectllm.eval.tasks import EvalOptions, evaluate

PREDICTIONS = "predictions"
CONFUSION = "confusion"


@dataclass
class ModelSpec:
    """One row of the table: a model to run (``make_backend(device)``, as caption loads it) or a baseline."""

    name: str
    kind: str  # checkpoint | cues | baseline
    make_backend: Callable[[str | None], object] | None = None
    baseline: Baseline | None = None
    max_new_tokens: int | None = None  # the answer limit, when the row sets its own (reported with the run)


@dataclass
class BenchmarkDataset:
    name: str
    manifest: Path
    tasks: tuple[str, ...]
    gold: dict[str, dict[str, Any]]  # id -> manifest sample, in manifest order (the first --limit)
    items: list  # CaptionItem per gold sample
    notes: list[str] = field(default_factory=list)


def load_dataset(source: DataSource, limit: int | None = None) -> BenchmarkDataset:
    """The manifest as caption items and gold records (the first ``limit`` samples); its tasks decided."""
    from affectllm.caption import collect_inputs
    from affectllm.eval.samples import read_jsonl

    gold_all = read_jsonl(source.manifest, "gold")
    items = collect_inputs([str(source.manifest)])
    if limit:
        items = items[:limit]
    _check_items(source, items)
    gold = {it.id: gold_all[it.id] for it in items}
    try:
        tasks = source.tasks or gold_tasks(list(gold.values()))
        tasks += tuple(t for t in extra_tasks(list(gold.values())) if t not in tasks)
    except AffectLLMError as err:
        raise AffectLLMError(f"{source.manifest}: cannot tell how to score {source.name}: {err}") from None
    return BenchmarkDataset(source.name, source.manifest, tasks, gold, items)


def _check_items(source: DataSource, items: list) -> None:
    """Refuse a manifest whose entries cannot be read or name media files that are not there: found after
    the predictions, such a sample would have been scored as a model failure."""
    bad = [f"{it.id}: {it.error}" for it in items if it.error]
    for it in items:
        turns = (it.sample or {}).get("context") or []
        media = [it.path, it.audio_path] + [f for turn in turns for key in ("videos", "audios")
                                            for f in turn.get(key) or []]
        bad += [f"{it.id}: media file {f} does not exist" for f in media if f and not Path(f).is_file()]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise AffectLLMError(f"--data {source.name} ({source.manifest}): {bad[0]}{more}; fix the manifest "
                             "(`affectllm recipe check` lists every problem) before the models run")


def task_gold(gold: dict[str, dict[str, Any]], task: str) -> dict[str, dict[str, Any]]:
    """The gold samples that carry what ``task`` scores."""
    if task in ("basic", "closed"):
        return {k: r for k, r in gold.items() if r.get("label") not in (None, "")}
    if task == "ov":
        return {k: r for k, r in gold.items() if r.get("emotions")}
    if task == "sentiment":
        return {k: r for k, r in gold.items() if r.get("valence") is not None}
    if task == "vad":
        return {k: r for k, r in gold.items() if r.get("vad") or any(r.get(d) is not None for d in VAD_DIMENSIONS)}
    if task in ("cause-span", "cause-pair"):
        return {k: r for k, r in gold.items() if r.get("target_turn") is not None and "cause_spans" in r}
    raise AffectLLMError(f"task {task} cannot be benchmarked")


def _write_records(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def _predict(model: ModelSpec, ds: BenchmarkDataset, path: Path, run: dict[str, Any]) -> dict[str, Any]:
    """Write the model's predictions for ``ds`` to ``path``; returns what happened (counts, seconds)."""
    start = time.perf_counter()
    if model.baseline is not None:
        _write_records(path, baseline_records(model.baseline, ds.gold))
        return {"seconds": round(time.perf_counter() - start, 3)}
    from affectllm.caption import run_job

    result = run_job(ds.items, path, model.make_backend, batch_size=run["batch_size"], workers=run["workers"],
                     overwrite=run["overwrite"], progress=run["progress"])
    s = result.summary
    print(f"{model.name} on {ds.name}: {s.ok} ok, {s.failed} failed, {s.skipped} already done "
          f"({s.seconds:.1f} s)", file=sys.stderr)
    return {"seconds": round(s.seconds, 3), "captioned": s.captioned, "already_done": s.skipped}


def _score(model: ModelSpec, ds: BenchmarkDataset, path: Path, options: EvalOptions,
           info: dict[str, Any]) -> list[ReportCell]:
    from affectllm.caption.writer import latest_records, read_records

    records = latest_records(read_records(path))
    pred = {sid: records[sid] for sid in ds.gold if sid in records}
    info["failed"] = sum(1 for r in pred.values() if r.get("error"))
    info["unparsed"] = sum(1 for r in pred.values() if r.get("parse_error"))
    info["predictions"] = str(path)
    cells, main_done = [], False
    for task in ds.tasks:
        gold = task_gold(ds.gold, task)
        if not gold:
            continue
        result = evaluate(task, gold, {k: v for k, v in pred.items() if k in gold}, options)
        cells.append(ReportCell(model.name, ds.name, result, main=not main_done))
        main_done = True
    return cells


def _dry_score(datasets: list[BenchmarkDataset], options: EvalOptions) -> None:
    """Score every task once with no predictions, before any model runs: gold the task cannot use (NaN
    ratings, labels no wheel maps, every valence 0) and scoring files are refused now, not after generation."""
    for ds in datasets:
        for task in ds.tasks:
            gold = task_gold(ds.gold, task)
            if gold:
                try:
                    evaluate(task, gold, {}, options)
                except AffectLLMError as err:
                    raise AffectLLMError(f"{ds.name} ({ds.manifest}), {task}: {err}") from None


def run_benchmark(sources: list[DataSource], models: list[ModelSpec], out: str | Path, options: EvalOptions,
                  per_label_baselines: bool = False, limit: int | None = None, batch_size: int = 8,
                  workers: int = 2, overwrite: bool = False, progress: bool = True,
                  facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Predict, score and write the report under ``out``; returns the report JSON (see the module docstring).

    ``per_label_baselines``: add a ``constant:LABEL`` row for every gold label of each dataset.
    ``facts`` (suite, command, notes) are stored in the JSON as given."""
    out = Path(out)
    datasets = [load_dataset(s, limit) for s in sources]
    data_info = _data_info(datasets)
    _dry_score(datasets, options)
    run = {"batch_size": batch_size, "workers": workers, "overwrite": overwrite, "progress": progress}
    cells: list[ReportCell] = []
    runs: dict[str, dict[str, Any]] = {}
    footnotes = _majority_footnotes(datasets, models, per_label_baselines)
    rows = [(model, ds) for model in models for ds in datasets]
    if per_label_baselines:
        rows += [(ModelSpec(b.name, "baseline", baseline=b), ds) for ds in datasets for b in label_baselines(ds.gold)]
    with_majority = any(m.baseline is not None and m.baseline.word is None for m in models)
    for model, ds in rows:
        if with_majority and model.baseline is not None and repeats_majority(model.baseline, ds.gold):
            continue  # the majority row already answers this (its footnote says so)
        entry = runs.setdefault(model.name, {"kind": model.kind})
        if model.max_new_tokens:
            entry["max_new_tokens"] = model.max_new_tokens
        path = out / PREDICTIONS / slug(model.name) / f"{slug(ds.name)}.jsonl"
        entry[ds.name] = _predict(model, ds, path, run)
        cells += _score(model, ds, path, options, entry[ds.name])
    table = report_table(cells, footnotes)
    mode = "official" if options.wheel_dir else "default"
    report = {**(facts or {}), "mode": mode + ("-strict" if options.strict else ""), "data": data_info,
              **table, "runs": runs,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, python {platform.python_version()}"}
    _write_report(out, report, table, f"affectllm benchmark ({(facts or {}).get('suite', '')}, {mode} mode)")
    return report


def _data_info(datasets: list[BenchmarkDataset]) -> dict[str, Any]:
    """Per dataset: manifest, samples, tasks, samples each task scores, and a note for those it cannot."""
    data_info: dict[str, Any] = {}
    for ds in datasets:
        scored = {t: len(task_gold(ds.gold, t)) for t in ds.tasks}
        data_info[ds.name] = {"manifest": str(ds.manifest), "samples": len(ds.gold), "tasks": list(ds.tasks),
                              "scored": scored}
        for task, n in scored.items():
            if n < len(ds.gold):
                what = {"sentiment": "a valence", "ov": "gold emotions"}.get(task, "a label")
                data_info[ds.name].setdefault("notes", []).append(
                    f"{task}: {len(ds.gold) - n} of {len(ds.gold)} samples have no {what} and are not scored")
    return data_info


def _majority_footnotes(datasets: list[BenchmarkDataset], models: list[ModelSpec], per_label: bool) -> list[str]:
    """What the majority row answers on each dataset, and which constant rows it stands for."""
    if not any(m.baseline is not None and m.baseline.word is None for m in models):
        return []
    notes = []
    for ds in datasets:
        word, polarity = majority_answer(ds.gold)
        constants = [m.baseline for m in models if m.baseline is not None and m.baseline.word is not None]
        constants += label_baselines(ds.gold) if per_label else []
        same = sorted({b.name for b in constants if repeats_majority(b, ds.gold)})
        notes.append(f"majority on {ds.name}: every sample answered '{word}' (its most frequent label)"
                     + (f" and '{polarity}' (its most frequent polarity)" if polarity else "")
                     + (f"; {', '.join(same)} would be the same answer and is not repeated" if same else "") + ".")
    return notes


def _write_report(out: Path, report: dict[str, Any], table: dict[str, Any], title: str) -> None:
    """report.json, report.md, report.png, and confusion/<model>/<column>.png for each confusion matrix."""
    try:
        text = json.dumps(report, indent=1, allow_nan=False, ensure_ascii=False)
    except ValueError:
        raise AffectLLMError("a score came out as NaN or infinite; check the predictions and gold values") from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report_markdown(table), encoding="utf-8")
    (out / "report.json").write_text(text + "\n", encoding="utf-8")
    report_chart(table, out / "report.png", title=title)
    confusion_charts(table, out / CONFUSION)
