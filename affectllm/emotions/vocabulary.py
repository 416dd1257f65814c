"""Our emotion vocabulary: canonical words, their families, valence and surface forms.

The data lives in ``vocabulary.csv`` beside this file (our own text, see its
header). Every surface form (synonym, inflection, multi-word phrase) maps to
exactly one canonical word; each canonical word belongs to one family. A
word that is not a listed form is looked up through the derivational
morphology of :mod:`affectllm.emotions.morphology` ("helplessness" ->
"helpless"). An optional salience column says how surely a mention in free
text names a felt emotion ("attentive" 0.5).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from affectllm.emotions.morphology import base_candidates
from affectllm.core.errors import AffectLLMError

VOCABULARY_CSV = Path(__file__).with_name("vocabulary.csv")

# Label-only marker in the CSV: recognized as a label, never picked out of free text.
LABEL_ONLY = "~"

_SPACES = re.compile(r"\s+")
_UNSEEN = object()
TOKEN_MEMO_LIMIT = 500_000  # distinct tokens remembered (bounded memory on any input)


def surface_key(text: str) -> str:
    """Lower-case, hyphens/underscores as spaces, curly apostrophes straightened, spaces collapsed."""
    text = text.lower().replace("\u2019", "'").replace("-", " ").replace("_", " ")
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class EmotionVocabulary:
    """Canonical emotion words with families, valence and surface forms.

    ``forms`` maps every surface key (see :func:`surface_key`) to its canonical
    word; ``text_forms`` is the subset that may be picked out of free text.
    """

    family_of: dict[str, str]
    valence_of: dict[str, float]
    forms: dict[str, str]
    text_forms: dict[str, str]
    max_phrase_words: int = field(default=1)
    # first word of each free-text form -> most words any such form has (longest-match search bound)
    phrase_starts: dict[str, int] = field(default_factory=dict)
    # canonical word -> how surely a mention names a felt emotion (1.0 unless the CSV's salience column says less)
    salience_of: dict[str, float] = field(default_factory=dict)
    # memo of single-token lookups in free text (morphology is the slow part)
    _token_memo: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.family_of)

    @property
    def families(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for word, fam in self.family_of.items():
            out.setdefault(fam, []).append(word)
        return {fam: tuple(ws) for fam, ws in out.items()}

    def _lookup(self, key: str, table: dict[str, str]) -> str | None:
        hit = table.get(key)
        if hit is not None or " " in key:
            return hit
        for base in base_candidates(key):  # derivational morphology: "helplessness" -> "helpless"
            hit = table.get(base)
            if hit is not None:
                return hit
        return None

    def normalize(self, label: str) -> str | None:
        """Canonical word for an emotion label (" Frustration " -> "frustrated"), or None."""
        return self._lookup(surface_key(label), self.forms)

    def normalize_text_form(self, key: str) -> str | None:
        """Like :meth:`normalize` for an already keyed token/phrase, excluding label-only forms."""
        if " " in key:
            return self.text_forms.get(key)
        try:
            return self._token_memo[key]
        except KeyError:
            hit = self._lookup(key, self.text_forms)
            if len(self._token_memo) < TOKEN_MEMO_LIMIT:
                self._token_memo[key] = hit
            return hit

    def match_at(self, tokens: list[str], i: int) -> tuple[str | None, int]:
        """Longest free-text form starting at ``tokens[i]``: (canonical word or None, tokens used)."""
        top = min(self.phrase_starts.get(tokens[i], 1), len(tokens) - i)
        for width in range(top, 1, -1):  # most tokens start no phrase: this loop is then empty
            # A span with punctuation ("on , edge") joins to a key no form has.
            word = self.text_forms.get(" ".join(tokens[i : i + width]))
            if word is not None:
                return word, width
        word = self._token_memo.get(tokens[i], _UNSEEN)
        return (self.normalize_text_form(tokens[i]) if word is _UNSEEN else word), 1

    def mentions(self, tokens: list[str]) -> list[tuple[int, int, str]]:
        """Every free-text form in ``tokens``, longest first, as (start, end, canonical word)."""
        out = []
        memo, starts = self._token_memo, self.phrase_starts
        i, n = 0, len(tokens)
        while i < n:
            tok = tokens[i]
            if starts.get(tok, 1) > 1:
                word, width = self.match_at(tokens, i)
            else:
                word, width = memo.get(tok, _UNSEEN), 1
                if word is _UNSEEN:
                    word = self.normalize_text_form(tok)
            if word is not None:
                out.append((i, i + width, word))
            i += width
        return out

    def family(self, label: str) -> str | None:
        word = self.normalize(label)
        return None if word is None else self.family_of[word]

    def valence(self, label: str) -> float | None:
        word = self.normalize(label)
        return None if word is None else self.valence_of[word]

    def normalize_all(self, labels: list[str]) -> list[str]:
        """Canonical words of ``labels`` in order, unknown ones dropped, duplicates removed."""
        out: list[str] = []
        for label in labels:
            word = self.normalize(label)
            if word is not None and word not in out:
                out.append(word)
        return out


def load_vocabulary(path: Path | str = VOCABULARY_CSV) -> EmotionVocabulary:
    """Read a vocabulary CSV (``word,family,valence,forms[,salience]``; ``#`` lines are comments)."""
    path = Path(path)
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    except OSError as err:
        raise AffectLLMError(f"cannot read emotion vocabulary {path}: {err.strerror}; pass an existing CSV file") from err
    family_of: dict[str, str] = {}
    valence_of: dict[str, float] = {}
    salience_of: dict[str, float] = {}
    forms: dict[str, str] = {}
    text_forms: dict[str, str] = {}

    def add(form: str, word: str, row: int) -> None:
        label_only = form.startswith(LABEL_ONLY)
        key = surface_key(form.lstrip(LABEL_ONLY))
        if key in forms and forms[key] != word:
            raise AffectLLMError(
                f"{path}:{row}: form {key!r} already belongs to {forms[key]!r}; give each form one canonical word"
            )
        forms[key] = word
        if label_only:
            text_forms.pop(key, None)
        else:
            text_forms[key] = word

    for row, rec in enumerate(csv.DictReader(lines), start=2):
        raw_word = rec["word"].strip()
        word = surface_key(raw_word.lstrip(LABEL_ONLY))
        if word in family_of:
            raise AffectLLMError(f"{path}:{row}: canonical word {word!r} listed twice; merge the rows")
        family_of[word] = rec["family"].strip()
        valence = float(rec["valence"])
        if not -1.0 <= valence <= 1.0:
            raise AffectLLMError(f"{path}:{row}: valence {valence} of {word!r} outside [-1, 1]")
        valence_of[word] = valence
        salience = float(rec.get("salience") or 1.0)
        if not 0.0 < salience <= 1.0:
            raise AffectLLMError(f"{path}:{row}: salience {salience} of {word!r} outside (0, 1]")
        salience_of[word] = salience
        add(raw_word, word, row)
        for form in (rec["forms"] or "").split(";"):
            if form.strip():
                add(form.strip(), word, row)
    longest = max(len(k.split(" ")) for k in forms)
    starts: dict[str, int] = {}
    for key in text_forms:
        words = key.split(" ")
        starts[words[0]] = max(starts.get(words[0], 1), len(words))
    return EmotionVocabulary(family_of, valence_of, forms, text_forms, longest, starts, salience_of)


@lru_cache(maxsize=1)
def default_vocabulary() -> EmotionVocabulary:
    """The vocabulary shipped with affectllm (cached: loaded once per process)."""
    return load_vocabulary()
