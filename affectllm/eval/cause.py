"""RECCON's two cause tasks: causal span extraction (``eval cause-span``) and causal emotion entailment
(``eval cause-pair``).

Both score (target utterance, candidate utterance) pairs, as RECCON does
(declare-lab/RECCON ``README.md``, ``eval_qa.py`` at commit
7f463be8baa416f51ea66555051a7035dd7a5714 and ``eval_classification.py`` at
commit 85c6da24f88e13d73b20334a058381c44bdcf676): for a target turn ``t`` the
candidates are turns 1..t (the target itself included); a candidate is a
cause when the gold ``cause_spans`` name it (``expanded emotion cause
evidence`` / ``expanded emotion cause span``; a latent cause names none).

Gold lines are the ``reccon`` recipe's samples: ``{"id", "target_turn",
"cause_spans": [{"text", "utterance"}]}``. Prediction lines carry
``cause_spans`` (``[{"text", "utterance"}]`` or bare strings), or the model's
``emotion_cause`` answer in ``raw_output`` (a caption record), read with the
``emotion_cause`` parser; the pair task also takes ``cause_utterances``
(turn numbers) directly. A predicted span without a turn number is given to
the gold cause it overlaps most (token F1 > 0); one that overlaps none cannot
be placed and is counted in a note.

``cause-span`` (SQuAD 2.0 style, the answer normalised by lower-casing and
dropping punctuation, articles and extra spaces):

- ``em_pos``, ``f1_pos``: exact match and token F1 over the positive pairs
  (the best predicted span for that turn against its gold span; 0 when the
  prediction names none);
- ``f1_neg``: F1 of "no span" over the pairs: precision = negative pairs
  left empty / pairs left empty, recall = negative pairs left empty /
  negative pairs;
- ``f1``: mean over all pairs of the per-pair F1, a negative pair scoring 1
  when left empty and 0 otherwise (SQuAD 2.0's rule for unanswerable questions).

``cause-pair``: each pair is "cause" or "not cause"; ``pos_f1``, ``neg_f1``,
their mean ``macro_f1``, and ``acc``, as RECCON's ``classification_report``.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from affectllm.core.errors import AffectLLMError

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_span(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (the SQuAD answer normalisation)."""
    return " ".join(_ARTICLES.sub(" ", str(text).lower().translate(_PUNCTUATION)).split())


def span_exact(gold: str, pred: str) -> float:
    return float(normalize_span(gold) == normalize_span(pred))


def span_f1(gold: str, pred: str) -> float:
    """Token F1 of the normalised answers (1 when both are empty, 0 when only one is)."""
    g, p = normalize_span(gold).split(), normalize_span(pred).split()
    if not g or not p:
        return float(g == p)
    common = sum((Counter(g) & Counter(p)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


@dataclass
class CausePairs:
    """One target turn: the gold cause spans per candidate turn and what the prediction puts on each."""

    target_turn: int
    gold: dict[int, list[str]]  # candidate turn -> gold span texts (cause turns only)
    predicted: dict[int, list[str]] = field(default_factory=dict)  # candidate turn -> predicted span texts
    unplaced: int = 0  # predicted spans with no turn that overlap no gold span
    outside: int = 0  # predicted spans naming a turn that is not a candidate

    @property
    def candidates(self) -> range:
        return range(1, self.target_turn + 1)


def _turn_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _span_list(raw: Any, where: str) -> list[tuple[str, int | None]]:
    if not isinstance(raw, list):
        raise AffectLLMError(f'{where}: "cause_spans" must be a list of {{"text", "utterance"}} or strings, got {raw!r}')
    out = []
    for item in raw:
        if isinstance(item, str):
            out.append((item, None))
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            out.append((item["text"], _turn_number(item.get("utterance"))))
        else:
            raise AffectLLMError(f'{where}: a "cause_spans" item must be {{"text", "utterance"}} or a string, '
                                 f"got {item!r}")
    return [(text, turn) for text, turn in out if text.strip()]


def gold_pairs(sid: str, rec: dict[str, Any]) -> CausePairs:
    where = f'gold record "{sid}"'
    turn = _turn_number(rec.get("target_turn"))
    if turn is None or turn < 1:
        raise AffectLLMError(f'{where} has no "target_turn" (the target utterance\'s turn number); '
                             "re-run `affectllm recipe reccon` to write it")
    gold: dict[int, list[str]] = {}
    for text, utt in _span_list(rec.get("cause_spans") or [], where):
        if utt is None or not 1 <= utt <= turn:
            raise AffectLLMError(f'{where}: cause span {text!r} names turn {utt}, not one of 1..{turn}')
        gold.setdefault(utt, []).append(text)
    return CausePairs(turn, gold)


def predicted_spans(sid: str, rec: dict[str, Any] | None) -> list[tuple[str, int | None]]:
    """(text, turn or None) of a prediction record (see the module docstring)."""
    if rec is None:
        return []
    where = f'prediction record "{sid}"'
    if rec.get("cause_spans") is not None:
        return _span_list(rec["cause_spans"], where)
    raw = rec.get("raw_output")
    if isinstance(raw, str) and raw.strip():
        from affectllm.reasoning import parse_output

        parsed = parse_output("emotion_cause", raw).extra.get("cause_spans") or []
        return _span_list(parsed, where)
    return []


def place_predictions(pairs: CausePairs, spans: list[tuple[str, int | None]]) -> CausePairs:
    """Put each predicted span on its candidate turn (an unnumbered one on the gold cause it overlaps most)."""
    for text, turn in spans:
        if turn is None:
            best = max(((span_f1(g, text), utt) for utt, texts in pairs.gold.items() for g in texts), default=(0.0, None))
            if best[0] == 0:
                pairs.unplaced += 1
                continue
            turn = best[1]
        if turn not in pairs.candidates:
            pairs.outside += 1
            continue
        pairs.predicted.setdefault(turn, []).append(text)
    return pairs


def _f1(tp: int, predicted: int, actual: int) -> float:
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def span_scores(samples: list[CausePairs]) -> dict[str, float | int]:
    """``{"em_pos", "f1_pos", "f1_neg", "f1", "pairs", "positive_pairs"}`` over every candidate pair."""
    em_pos, f1_pos, pair_f1 = [], [], []
    negatives = empty = empty_negatives = 0
    for s in samples:
        for utt in s.candidates:
            preds = s.predicted.get(utt, [])
            if utt in s.gold:
                em = max((span_exact(g, p) for g in s.gold[utt] for p in preds), default=0.0)
                f1 = max((span_f1(g, p) for g in s.gold[utt] for p in preds), default=0.0)
                em_pos.append(em)
                f1_pos.append(f1)
                pair_f1.append(f1)
                empty += not preds
            else:
                negatives += 1
                empty += not preds
                empty_negatives += not preds
                pair_f1.append(float(not preds))
    if not pair_f1:
        raise AffectLLMError("cause-span: no gold record to score")
    mean = (lambda xs: sum(xs) / len(xs) if xs else 0.0)
    return {"em_pos": mean(em_pos), "f1_pos": mean(f1_pos), "f1_neg": _f1(empty_negatives, empty, negatives),
            "f1": mean(pair_f1), "pairs": len(pair_f1), "positive_pairs": len(f1_pos)}


def pair_scores(samples: list[CausePairs], predicted_turns: list[set[int] | None]) -> dict[str, float | int]:
    """``{"pos_f1", "neg_f1", "macro_f1", "acc", "pairs"}``; ``predicted_turns[i]`` overrides sample i's placed
    spans when given (a prediction's ``cause_utterances``)."""
    tp = fp = fn = tn = 0
    for s, turns in zip(samples, predicted_turns):
        chosen = turns if turns is not None else set(s.predicted)
        for utt in s.candidates:
            gold, pred = utt in s.gold, utt in chosen
            tp += gold and pred
            fp += pred and not gold
            fn += gold and not pred
            tn += not gold and not pred
    total = tp + fp + fn + tn
    if not total:
        raise AffectLLMError("cause-pair: no gold record to score")
    pos, neg = _f1(tp, tp + fp, tp + fn), _f1(tn, tn + fn, tn + fp)
    return {"pos_f1": pos, "neg_f1": neg, "macro_f1": (pos + neg) / 2, "acc": (tp + tn) / total, "pairs": total}


def predicted_turns(sid: str, rec: dict[str, Any] | None) -> set[int] | None:
    """A prediction's ``cause_utterances`` as a set of turns, or None when it has none."""
    if rec is None or rec.get("cause_utterances") is None:
        return None
    raw = rec["cause_utterances"]
    turns = [_turn_number(x) for x in raw] if isinstance(raw, list) else [None]
    if None in turns:
        raise AffectLLMError(f'prediction record "{sid}": "cause_utterances" must be a list of turn numbers, got {raw!r}')
    return set(turns)


def cause_scores(task: str, gold: dict[str, dict[str, Any]], ids: list[str],
                 recs: list[dict[str, Any] | None]) -> tuple[dict[str, Any], list[str]]:
    """The scores of ``cause-span`` or ``cause-pair`` and notes about spans that could not be placed."""
    samples = [place_predictions(gold_pairs(sid, gold[sid]), predicted_spans(sid, rec)) for sid, rec in zip(ids, recs)]
    notes = []
    unplaced, outside = sum(s.unplaced for s in samples), sum(s.outside for s in samples)
    if unplaced:
        notes.append(f"{unplaced} predicted spans name no turn and overlap no gold cause span; they are not scored")
    if outside:
        notes.append(f"{outside} predicted spans name a turn after the target (or below 1); they are not scored")
    if task == "cause-span":
        return span_scores(samples), notes
    return pair_scores(samples, [predicted_turns(sid, rec) for sid, rec in zip(ids, recs)]), notes
