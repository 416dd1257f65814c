"""Official MER-UniBench mode: every mapping and scoring rule on a hand-made wheel folder, then the real files."""

import csv
from pathlib import Path

import pytest

from affectllm.core.errors import AffectLLMError
from affectllm.eval import EvalOptions, evaluate
from affectllm.eval.wheel import load_official_wheels, parse_label_list

REAL_WHEELS = Path(__file__).resolve().parents[2] / "shared" / "emotion_wheel"
needs_real = pytest.mark.skipif(not (REAL_WHEELS / "format.csv").is_file(), reason="../shared/emotion_wheel absent")


def _xlsx(path: Path, header: list[str], rows: list[tuple]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    book.save(path)


@pytest.fixture(scope="module")
def toy_wheels(tmp_path_factory) -> Path:
    """A wheel folder small enough to compute every score by hand.

    Surface form -> level1, per wheel (derivation in the comments):
        joy/joys/joyful   w1 joy    w2 positive  w3-5 good   (candidates [cheerful, happy])
        glad/gladness     w1 joy    w2 positive  w3-5 good   ([happy])
        rage/raging       w1 calm   w2 negative  w3-5 bad    ([angry, mad]; "angry" re-listed under Calm by forward fill)
        fury              w1 anger  w2 negative  w3-5 bad    ([mad])
        calm              w1 calm   -            -           ([peaceful])
        worn out/worn-out -         w2 negative  -           ([sad])
        Furious, happy, na_form: dropped everywhere
    """
    root = tmp_path_factory.mktemp("wheels")
    with open(root / "format.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "format"])
        w.writerow(["joy", "joy,joys,joyful"])
        w.writerow(["glad", "glad,gladness"])
        w.writerow(["rage", "rage,raging"])
        w.writerow(["fury", "fury,Furious"])  # a capitalized form can never match a lower-cased lookup
        w.writerow(["calm", ""])  # the name alone is a surface form
        w.writerow(["worn out", "worn out,worn-out"])
        w.writerow(["NA", "na_form"])  # pandas reads the name NA as missing -> base form ""
    header = [f"{kind}_run{r}" for r in range(1, 9) for kind in ("word", "synonym")]

    def row(word, per_run):
        out = []
        for r in range(1, 9):
            out += [word if r != 2 else f" {word.title()} ", per_run.get(r, "")]
        return tuple(out)

    _xlsx(root / "synonym.xlsx", header, [
        row("happy", {1: "joy", 2: "[glad]"}),
        row("cheerful", {1: "joy"}),
        row("mad", {1: "'rage', fury"}),
        row("angry", {3: "rage"}),
        row("peaceful", {5: "calm"}),
        row("sad", {8: "worn out"}),
    ])
    levels = ["level1", "level2", "level3"]
    _xlsx(root / "wheel1.xlsx", levels, [
        ("Joy", "Cheerful", "Happy"),
        (None, None, "Content"),
        ("Anger", "Mad", "Angry"),
        (None, "Furious", None),
        ("Calm", "Peaceful", None),  # level3 blank repeats "angry": angry now belongs to Calm (later group wins)
    ])
    _xlsx(root / "wheel2.xlsx", levels, [("Positive", "Happy", "Cheerful"), ("Negative", "Angry", "Mad"), (None, "Sad", None)])
    for k in (3, 4, 5):
        _xlsx(root / f"wheel{k}.xlsx", levels, [("Good", "Happy", None), ("Bad", "Mad", None)])
    return root


EXPECTED_MAP = {
    "joy": ["joy", "positive", "good", "good", "good"],
    "Joyful ": ["joy", "positive", "good", "good", "good"],
    " GLADNESS": ["joy", "positive", "good", "good", "good"],
    "rage": ["calm", "negative", "bad", "bad", "bad"],
    "fury": ["anger", "negative", "bad", "bad", "bad"],
    "calm": ["calm", None, None, None, None],
    "worn-out": [None, "negative", None, None, None],
    "worn out": [None, "negative", None, None, None],
    "Furious": [None] * 5,
    "happy": [None] * 5,
    "na_form": [None] * 5,
    "joy, glad": [None] * 5,  # items are never split
    "": [None] * 5,
}


@pytest.mark.parametrize("item, levels", EXPECTED_MAP.items())
def test_toy_mapping(toy_wheels, item, levels):
    wheels = load_official_wheels(toy_wheels)
    assert [wheels.map_item(item, k) for k in range(5)] == levels


def _records(rows, field):
    return {str(i): {"id": str(i), field: v} for i, v in enumerate(rows)}


def test_toy_ov(toy_wheels):
    gold = _records([["Joy", " glad "], ["rage", "worn out"], ["calm"], ["happy", "na_form"], ["worn-out"]], "emotions")
    pred = _records([["joyful", "Furious", "unknownword"], ["calm", "fury", "fury"], [], ["joy"], ["worn out"]], "emotions")
    scores = evaluate("ov", gold, pred, EvalOptions(wheel_dir=str(toy_wheels))).scores
    # wheel1: P=(1+1/2+0)/3, R=(1+1+0)/3, F=4/7; wheels 2-5: P=R=F=1.
    assert set(scores) == {"f1", "precision", "recall"}
    assert scores["f1"] == pytest.approx(32 / 35, abs=1e-12)
    assert scores["precision"] == pytest.approx(0.9, abs=1e-12)
    assert scores["recall"] == pytest.approx(14 / 15, abs=1e-12)


def test_toy_ov_strict_counts_unknown_predictions(toy_wheels):
    gold = _records([["joy"]], "emotions")
    pred = _records([["joyful", "Furious", "unknownword"]], "emotions")
    assert evaluate("ov", gold, pred, EvalOptions(wheel_dir=str(toy_wheels))).scores == {"f1": 1.0, "precision": 1.0, "recall": 1.0}
    strict = evaluate("ov", gold, pred, EvalOptions(wheel_dir=str(toy_wheels), strict=True)).scores
    assert strict == pytest.approx({"f1": 0.5, "precision": 1 / 3, "recall": 1.0}, abs=1e-12)


def test_toy_ov_string_lists_duplicates_and_missing(toy_wheels):
    # gold given as the reference's bracketed string; duplicates collapse; a missing prediction scores 0.
    gold = {"a": {"id": "a", "emotions": "[joy, 'joys', \"glad\"]"}, "b": {"id": "b", "emotions": ["fury"]}}
    pred = {"a": {"id": "a", "emotions": ["glad", "glad", "joy"]}}
    res = evaluate("ov", gold, pred, EvalOptions(wheel_dir=str(toy_wheels)))
    assert res.missing_predictions == 1
    # every wheel: sample a p=r=1, sample b p=r=0 -> P=R=F=1/2
    assert res.scores == pytest.approx({"f1": 0.5, "precision": 0.5, "recall": 0.5}, abs=1e-12)


def test_toy_ov_no_scorable_gold(toy_wheels):
    gold = _records([["happy"], ["nothing"]], "emotions")
    with pytest.raises(AffectLLMError, match="nothing can be scored"):
        evaluate("ov", gold, gold, EvalOptions(wheel_dir=str(toy_wheels)))


def test_toy_ov_zero_precision_and_recall_gives_zero_f1(toy_wheels):
    gold = _records([["joy"]], "emotions")
    pred = _records([["fury"]], "emotions")
    assert evaluate("ov", gold, pred, EvalOptions(wheel_dir=str(toy_wheels))).scores == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def test_toy_hit_rate(toy_wheels):
    gold = _records(["joy", "rage", "neutral", "calm"], "label")
    pred = _records([["glad"], ["fury"], ["table"], ["calm", "joy"]], "emotions")
    # wheel1 hits 1,0,-,1 -> 2/3; wheel2 hits 1,1 -> 1; wheels 3-5 -> 1. "neutral" maps nowhere and is skipped.
    official = evaluate("basic", gold, pred, EvalOptions(wheel_dir=str(toy_wheels))).scores
    assert official == {"hit_rate": pytest.approx(14 / 15, abs=1e-12)}
    # strict: the neutral sample is scored on every wheel and "table" (no emotion) hits it.
    strict = evaluate("basic", gold, pred, EvalOptions(wheel_dir=str(toy_wheels), strict=True)).scores
    assert strict == {"hit_rate": pytest.approx(19 / 20, abs=1e-12)}


def test_parse_label_list_matches_reference_rules():
    assert parse_label_list("[happy, 'sad', \"angry\"]") == ["happy", "sad", "angry"]
    assert parse_label_list("happy,,sad ,") == ["happy", "sad"]
    assert parse_label_list("") == [] and parse_label_list(None) == [] and parse_label_list(float("nan")) == []
    assert parse_label_list(["a, b", "c"]) == ["a, b", "c"]  # lists are never split


def test_missing_wheel_dir(tmp_path):
    with pytest.raises(AffectLLMError, match="not a folder"):
        load_official_wheels(tmp_path / "nope")
    with pytest.raises(AffectLLMError, match="format.csv"):
        load_official_wheels(tmp_path)


@needs_real
def test_real_wheels_known_words():
    wheels = load_official_wheels(REAL_WHEELS)
    got = {w: [wheels.map_item(w, k) for k in range(5)] for w in ("happy", " Joyful", "angry", "anxious", "neutral", "sad and angry")}
    assert got["happy"] == ["happy", "happy", "joyful", "joy", "powerful"]  # wheel5: "powerful" sorts first
    assert got[" Joyful"] == got["happy"]
    assert got["angry"] == ["mad", "angry", "mad", "anger", "mad"]
    assert got["anxious"] == ["scared", "fearful", "scared", "fear", "scared"]
    assert got["neutral"] == [None] * 5
    assert got["sad and angry"] == [None] * 5


@needs_real
def test_real_wheels_against_an_independent_pandas_reading():
    """Re-derive the reference mapping with pandas (the reference's own table reader) for every surface form."""
    pd = pytest.importorskip("pandas")
    import re

    def as_list(s):
        if not isinstance(s, str) or s == "":
            return []
        s = s[1:] if s[0] == "[" else s
        s = s[:-1] if s and s[-1] == "]" else s
        return [x.strip() for x in re.split("['\",]", s) if x.strip() not in ("", ",")]

    forms = {}
    for _, r in pd.read_csv(REAL_WHEELS / "format.csv").iterrows():
        name = "" if pd.isna(r["name"]) else r["name"]
        for f in as_list(r["format"]):
            forms.setdefault(f, []).append(name)
        forms.setdefault(name, []).append(name)
    syn = pd.read_excel(REAL_WHEELS / "synonym.xlsx")
    to_wheel = {}
    for run in range(1, 9):
        for _, r in syn.iterrows():
            word = r[f"word_run{run}"].strip().lower()
            to_wheel.setdefault(word, set()).add(word)
            for s in as_list(r[f"synonym_run{run}"]):
                to_wheel.setdefault(s.strip().lower(), set()).add(word)
    wheels = load_official_wheels(REAL_WHEELS)
    for k in range(5):
        sheet = pd.read_excel(REAL_WHEELS / f"wheel{k + 1}.xlsx").ffill().fillna("")
        level1_of = {}
        for level1 in dict.fromkeys(sheet["level1"].str.lower().str.strip()):
            rows = sheet[sheet["level1"].str.lower().str.strip() == level1]
            for col in ("level1", "level2", "level3"):
                for w in rows[col].str.lower().str.strip():
                    level1_of[w] = level1
        mapped = 0
        for form, bases in forms.items():
            cands = sorted({w for b in bases for w in to_wheel.get(b, ())})
            ref = next((level1_of[c] for c in cands if c in level1_of), None)
            mapped += ref is not None
            assert wheels.map_item(form, k) == ref, (k, form)
        assert mapped > 3000
