"""One entry point per evaluation task, from gold + prediction records to the score dict of DESIGN.md.

========== ============================== =========================================
task       gold line                      result (``--json`` keys)
========== ============================== =========================================
ov         ``{"id","emotions":[...]}``    ``{"f1","precision","recall"}``
basic      ``{"id","label"}``             ``{"hit_rate"}``
sentiment  ``{"id","valence"}``           ``{"waf","acc"}``
vad        ``{"id","vad","vad_scale"}``   ``{"ccc","pearson","mae",...}`` (per dimension)
closed     ``{"id","label"}``             ``{"waf","acc"}``
grounding  (none: the pred records)       ``{"grounding","samples","cited"}``
cause-span ``{"id","target_turn",``       ``{"em_pos","f1_pos","f1_neg","f1",...}``
           ``"cause_spans"}``
cause-pair as cause-span                  ``{"pos_f1","neg_f1","macro_f1","acc",...}``
========== ============================== =========================================

``vad`` is scored by ``affectllm.eval.dimensional``, the cause tasks (RECCON)
by ``affectllm.eval.cause``.

Modes: *official* (``wheel_dir`` given) reproduces MER-UniBench on the
official wheel files; *default* uses our own vocabulary's families.
``strict`` turns on the sane variant of the reference's quirks: for
``ov``/``basic`` an unknown predicted word counts as a wrong guess instead
of vanishing, and a gold "neutral" is scored (a hit when the prediction
names no mappable emotion); for ``sentiment`` a non-polar prediction is
always wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from affectllm.core.dimensions import finite_number
from affectllm.emotions import EmotionVocabulary, default_vocabulary, extract_labels
from affectllm.core.errors import AffectLLMError
from affectllm.eval.cause import cause_scores
from affectllm.eval.classification import closed_set_scores
from affectllm.eval.dimensional import vad_scores
from affectllm.eval.grounding import grounding_scores
from affectllm.eval.open_vocab import LabelSpace, VocabularySpace, WheelSpace, hit_rate_scores, ov_scores
from affectllm.eval.samples import EmotionExtractor, prediction_emotions
from affectllm.eval.sentiment import polarity_pairs, prediction_polarity, sentiment_scores
from affectllm.eval.uncertainty import classification_details, open_vocab_details
from affectllm.eval.wheel import load_official_wheels, parse_label_list

TASKS = ("ov", "basic", "sentiment", "vad", "closed", "grounding", "cause-span", "cause-pair")
MAIN_METRIC = {"ov": "f1", "basic": "hit_rate", "sentiment": "waf", "vad": "ccc", "closed": "waf", "grounding": "grounding",
               "cause-span": "f1_pos", "cause-pair": "macro_f1"}


@dataclass
class EvalOptions:
    wheel_dir: str | None = None  # official mode when set
    strict: bool = False
    source: str = "auto"  # where prediction emotions come from: auto | emotions | explanation
    level: str = "family"  # default-mode granularity for ov/basic: family | word
    extractor: EmotionExtractor | None = None  # free text -> emotion words (rule-based when None)
    vocabulary: EmotionVocabulary | None = None


@dataclass
class EvalResult:
    task: str
    scores: dict[str, Any]
    mode: str
    samples: int
    missing_predictions: int = 0
    notes: list[str] = field(default_factory=list)
    # samples scored and skipped, 95 % intervals, per-class table, confusion (affectllm.eval.uncertainty)
    details: dict[str, Any] = field(default_factory=dict)
    resampled: dict[str, Any] = field(default_factory=dict, repr=False)  # each score over the resamples

    @property
    def main(self) -> float:
        value = self.scores[MAIN_METRIC[self.task]]
        if isinstance(value, dict):  # vad: mean CCC over the dimensions scored
            return sum(value.values()) / len(value)
        return float(value)


NEUTRAL_CLUSTER = "\0neutral"


class StrictGold:
    """Strict gold side: a gold "neutral" that maps nowhere becomes the neutral cluster (so it is scored)."""

    def __init__(self, base: LabelSpace):
        self.base, self.n_views, self.name = base, base.n_views, base.name

    def map_set(self, items: list[str], view: int) -> set[str]:
        out = self.base.map_set(items, view)
        if any(str(x).lower().strip() == "neutral" for x in items) and not self.base.map_set(["neutral"], view):
            out.add(NEUTRAL_CLUSTER)
        return out


class StrictPrediction:
    """Strict prediction side: each unmappable item is its own (wrong) cluster; naming no mappable emotion is neutral."""

    def __init__(self, base: LabelSpace):
        self.base, self.n_views, self.name = base, base.n_views, base.name

    def map_set(self, items: list[str], view: int) -> set[str]:
        out: set[str] = set()
        unknown: set[str] = set()
        for item in items:
            mapped = self.base.map_set([item], view)
            out |= mapped
            if not mapped:
                unknown.add("\0unknown:" + str(item).lower().strip())
        return (out or self.base.map_set(["neutral"], view) or {NEUTRAL_CLUSTER}) | unknown


def label_space(options: EvalOptions, vocab: EmotionVocabulary) -> LabelSpace:
    """The label space ``ov`` and ``basic`` score in: the official wheels with ``wheel_dir``, else our vocabulary."""
    if options.wheel_dir:
        return WheelSpace(load_official_wheels(options.wheel_dir))
    if options.level not in ("family", "word"):
        raise AffectLLMError(f"--level {options.level} is not supported; use family or word")
    return VocabularySpace(vocab, level=options.level, empty_is_neutral=True)


def evaluate(task: str, gold: dict[str, dict[str, Any]], pred: dict[str, dict[str, Any]], options: EvalOptions | None = None) -> EvalResult:
    """Score ``pred`` records against ``gold`` records (both ``id`` -> record) on ``task``."""
    options = options or EvalOptions()
    vocab = options.vocabulary or default_vocabulary()
    extractor = options.extractor or (lambda text: extract_labels(text, vocab))
    mode = "official" if options.wheel_dir else "default"
    if options.strict:
        mode += "-strict"
    if task not in TASKS:
        raise AffectLLMError(f"unknown eval task {task!r}; choose one of {', '.join(TASKS)}")
    if task == "grounding":
        recs = list(pred.values())
        return EvalResult(task, grounding_scores(recs), "default", len(recs))

    ids = list(gold)
    recs = [pred.get(sid) for sid in ids]
    missing = sum(r is None for r in recs)
    notes = []
    if missing:
        notes.append(f"{missing} gold ids have no prediction ({_examples(s for s, r in zip(ids, recs) if r is None)}); "
                     "they count as predicting nothing")
    extra = [sid for sid in pred if sid not in gold]
    if extra:
        notes.append(f"{len(extra)} prediction ids are not in the gold file ({_examples(extra)}); they are not scored")

    def emotions_of(rec):
        return prediction_emotions(rec, extractor, options.source)

    if task in ("ov", "basic"):
        return _wheel_task(task, gold, ids, [emotions_of(r) for r in recs], options, vocab, mode, missing, notes)

    if task == "sentiment":
        polar = [prediction_polarity(r, emotions_of(r) if r is not None and r.get("sentiment") is None else [], vocab)
                 for r in recs]
        return _sentiment_task(gold, ids, polar, options, mode, missing, notes)

    if task == "vad":
        def emotion_valence(rec):
            vals = [v for v in (vocab.valence(e) for e in emotions_of(rec)) if v is not None]
            return sum(vals) / len(vals) if vals else 0.0

        scores, vad_notes = vad_scores(gold, ids, recs, emotion_valence)
        return _detailed(EvalResult(task, scores, mode, len(ids), missing, notes + vad_notes), {}, {})

    if task in ("cause-span", "cause-pair"):
        scores, cause_notes = cause_scores(task, gold, ids, recs)
        return _detailed(EvalResult(task, scores, mode, len(ids), missing, notes + cause_notes), {}, {})

    # closed-set classification
    golds = [str(_need(gold, sid, "label")) for sid in ids]
    classes = sorted({g.lower().strip() for g in golds})
    preds = [_closed_label(r, emotions_of(r) if r is not None else [], classes, vocab) for r in recs]
    result = EvalResult(task, closed_set_scores(golds, preds), mode, len(ids), missing, notes)
    return _detailed(result, *classification_details([g.lower().strip() for g in golds],
                                                     [str(x).lower().strip() for x in preds]))


def _sentiment_task(gold: dict[str, dict[str, Any]], ids: list[str], polar: list[str], options: EvalOptions,
                    mode: str, missing: int, notes: list[str]) -> EvalResult:
    """Sentiment WAF / accuracy of the predicted polarities ``polar``, aligned with ``ids``; zero valences skipped."""
    keep = [sid for sid in ids if _number(_need(gold, sid, "valence"), sid, "valence") != 0]
    if not keep:
        raise AffectLLMError("sentiment: every gold valence is 0; the reference drops those, so nothing is left to score")
    golds = [float(gold[sid]["valence"]) for sid in ids]
    result = EvalResult("sentiment", sentiment_scores(golds, polar, strict=options.strict), mode, len(keep), missing,
                        notes)
    y_true, y_pred = polarity_pairs(golds, polar, strict=options.strict)
    named = {True: "positive", False: "negative", None: "neither"}
    return _detailed(result, *classification_details([named[t] for t in y_true], [named[x] for x in y_pred]),
                     skipped=len(ids) - len(keep))


def _detailed(result: EvalResult, details: dict[str, Any], resampled: dict[str, Any], skipped: int = 0) -> EvalResult:
    """``result`` with its details; counts default to every sample scored (``skipped``: left out by the task)."""
    counts = details.pop("counts", {"scored": result.samples, "skipped": skipped})
    counts["skipped"] = max(counts["skipped"], skipped)
    counts["missing_predictions"] = result.missing_predictions
    result.details = {"counts": counts, **details}
    result.resampled = resampled
    return result


def _wheel_task(task: str, gold: dict[str, dict[str, Any]], ids: list[str], preds: list[list[str]],
                options: EvalOptions, vocab: EmotionVocabulary, mode: str, missing: int, notes: list[str]) -> EvalResult:
    """``ov`` (emotion-wheel F1) or ``basic`` (hit rate) of the predicted emotion lists ``preds``, aligned with ``ids``."""
    space = label_space(options, vocab)
    gold_space, pred_space = (StrictGold(space), StrictPrediction(space)) if options.strict else (space, space)
    if task == "ov":
        golds = [parse_label_list(_need(gold, sid, "emotions")) for sid in ids]
        result = ov_scores(golds, preds, gold_space, pred_space)
        scores = result.ov()
    else:
        golds = [parse_label_list(_need(gold, sid, "label")) for sid in ids]
        result = hit_rate_scores(golds, preds, gold_space, pred_space)
        scores = result.basic()
    if result.skipped_views:
        notes.append(f"views {result.skipped_views} had no scorable gold sample and are left out of the mean")
    labels = [str(g[0]).lower().strip() if g else "" for g in golds] if task == "basic" else None
    return _detailed(EvalResult(task, scores, mode, len(ids), missing, notes),
                     *open_vocab_details(result.views, result.skipped_views, task, labels))


def _examples(ids, shown: int = 3) -> str:
    ids = list(ids)
    return "e.g. " + ", ".join(repr(i) for i in ids[:shown]) + (", ..." if len(ids) > shown else "")


def _need(gold: dict[str, dict[str, Any]], sid: str, field_name: str) -> Any:
    if field_name not in gold[sid]:
        raise AffectLLMError(f'gold record "{sid}" has no "{field_name}" field; this task needs it on every line')
    return gold[sid][field_name]


def _number(value: Any, sid: str, field_name: str, side: str = "gold") -> float:
    """A finite number from a record's field, or one error line naming the record (NaN, Infinity, "high")."""
    return finite_number(value, f'{side} record "{sid}": "{field_name}"')


def _closed_label(rec: dict[str, Any] | None, emotions: list[str], classes: list[str], vocab: EmotionVocabulary) -> str:
    """The predicted class: the record's ``label``, else its first emotion that names a class or shares a class's family."""
    if rec is None:
        return "\0none"
    if rec.get("label") is not None:
        return str(rec["label"])
    class_words = {c: vocab.normalize(c) for c in classes}
    for emotion in emotions:
        key = str(emotion).lower().strip()
        if key in classes:
            return key
        word = vocab.normalize(key)
        if word is None:
            continue
        for c, cw in class_words.items():
            if cw == word:
                return c
        for c, cw in class_words.items():
            if cw is not None and vocab.family_of[cw] == vocab.family_of[word]:
                return c
    return "\0none"
