"""Constant predictions scored beside the models, so a table says what guessing gets.

``--baselines`` takes a comma-separated list:

* ``majority``: every sample gets the evaluated set's most frequent gold label (its most frequent
  emotion word where there is no label) and the majority polarity of its non-zero valences. Taken
  from the set being scored, so it is the best any single constant answer can do on accuracy;
* ``constant:WORD``: every sample gets WORD (its polarity from the vocabulary's valence);
* ``constants``: one ``constant:LABEL`` row per gold label of each dataset.

With ``majority`` in the table, a constant that answers the dataset's majority label is the same row and
is left out of that dataset (the table's footnote names the majority answer).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from affectllm.core.errors import AffectLLMError


@dataclass(frozen=True)
class Baseline:
    name: str  # the table's row name
    word: str | None = None  # constant:WORD; None for majority


def parse_baselines(text: str | None) -> tuple[list[Baseline], bool]:
    """(fixed baselines, whether ``constants`` asks for one row per gold label) from ``--baselines``."""
    out: list[Baseline] = []
    per_label = False
    for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
        if part == "majority":
            out.append(Baseline("majority"))
        elif part == "constants":
            per_label = True
        elif part.startswith("constant:") and part[len("constant:"):].strip():
            word = part[len("constant:"):].strip()
            out.append(Baseline(f"constant:{word}", word))
        else:
            raise AffectLLMError(f"--baselines {part}: unknown baseline; use majority, constant:WORD or constants")
    return out, per_label


def gold_labels(gold: dict[str, dict[str, Any]]) -> list[str]:
    """Each sample's label: ``label``, else its first gold emotion ("" when it has neither)."""
    out = []
    for rec in gold.values():
        label = rec.get("label")
        if label in (None, "") and rec.get("emotions"):
            label = rec["emotions"][0]
        out.append(str(label or ""))
    return out


def label_baselines(gold: dict[str, dict[str, Any]]) -> list[Baseline]:
    """``constant:LABEL`` for every gold label of a dataset, most frequent first."""
    return [Baseline(f"constant:{w}", w) for w, _ in Counter(w for w in gold_labels(gold) if w).most_common()]


def majority_answer(gold: dict[str, dict[str, Any]]) -> tuple[str, str | None]:
    """(the most frequent gold label, the most frequent polarity of the non-zero valences or None)."""
    counts = Counter(w for w in gold_labels(gold) if w)
    word = counts.most_common(1)[0][0] if counts else "neutral"
    polarity = Counter("positive" if float(r["valence"]) > 0 else "negative" for r in gold.values()
                       if isinstance(r.get("valence"), (int, float)) and r["valence"] != 0)
    return word, (polarity.most_common(1)[0][0] if polarity else None)


def repeats_majority(baseline: Baseline, gold: dict[str, dict[str, Any]]) -> bool:
    """Whether ``baseline`` answers what the majority row answers on this dataset (``constant:neutral`` where
    neutral is the most frequent label): the same row twice says nothing."""
    return baseline.word is not None and baseline.word.lower().strip() == majority_answer(gold)[0].lower().strip()


def baseline_records(baseline: Baseline, gold: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One prediction record per gold sample."""
    word = baseline.word
    sentiment = None
    if word is None:
        word, sentiment = majority_answer(gold)
    out = []
    for sid in gold:
        rec: dict[str, Any] = {"id": sid, "emotions": [word], "model": baseline.name, "error": None}
        if sentiment is not None:
            rec["sentiment"] = sentiment
        out.append(rec)
    return out
