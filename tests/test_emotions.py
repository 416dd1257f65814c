"""Our emotion vocabulary and the deterministic free-text extractor."""

import pytest

from affectllm.emotions import EmotionVocabulary, default_vocabulary, extract_emotions, load_vocabulary
from affectllm.core.errors import AffectLLMError


@pytest.fixture(scope="module")
def vocab() -> EmotionVocabulary:
    return default_vocabulary()


def test_vocabulary_shape(vocab):
    assert default_vocabulary() is vocab  # cached singleton
    assert len(vocab.words) >= 200
    assert len(vocab.forms) >= 800
    plutchik = {"joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"}
    assert plutchik | {"neutral", "shame", "calm", "confusion"} <= set(vocab.families)
    assert sum(len(ws) for ws in vocab.families.values()) == len(vocab.words)
    assert all(-1.0 <= vocab.valence_of[w] <= 1.0 for w in vocab.words)
    # every canonical word normalizes to itself
    assert all(vocab.normalize(w) == w for w in vocab.words)


@pytest.mark.parametrize(
    "label, word",
    [
        (" Frustration ", "frustrated"),
        ("frustrating", "frustrated"),
        ("FURIOUS", "furious"),
        ("fury", "furious"),
        ("anger", "angry"),
        ("angrily", "angry"),
        ("happiness", "happy"),
        ("nervously", "nervous"),  # listed
        ("anxiousness", "anxious"),
        ("worries", "worried"),
        ("Worn-Out", "exhausted"),
        ("worn   out", "exhausted"),
        ("on edge", "nervous"),
        ("ill at ease", "uneasy"),
        ("self-conscious", "self conscious"),
        ("content", "content"),  # label-only forms still normalize
        ("mad", "angry"),
        ("gloomily", "gloomy"),
        ("Hopes", "hopeful"),
        ("grumpiness", "grumpy"),
    ],
)
def test_normalize(vocab, label, word):
    assert vocab.normalize(label) == word


@pytest.mark.parametrize("label", ["table", "", "   ", "lovely", "likely", "run", "the", "angryish"])
def test_normalize_unknown(vocab, label):
    assert vocab.normalize(label) is None
    assert vocab.family(label) is None
    assert vocab.valence(label) is None


def test_family_and_valence(vocab):
    assert vocab.family("furious") == "anger"
    assert vocab.family("Relief") == "calm"
    assert vocab.family("guilt") == "shame"
    assert vocab.family("puzzled") == "confusion"
    assert vocab.valence("furious") < vocab.valence("annoyed") < 0 < vocab.valence("happy") < vocab.valence("ecstatic")
    assert vocab.valence("neutral") == 0.0


def test_normalize_all_dedups_in_order(vocab):
    assert vocab.normalize_all(["Anger", "sofa", "angry", " joy", "ANGRILY", "joyful"]) == ["angry", "joyful"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("She seems slightly anxious but clearly not angry; frustration builds.", ["anxious", "frustrated"]),
        ("No sign of anger or frustration, just worn out and a bit on edge.", ["exhausted", "nervous"]),
        ("He cannot hide his disappointment.", ["disappointed"]),
        ("She is neither happy nor sad, mostly bored.", ["bored"]),
        ("He looks amused rather than angry.", ["amused"]),
        ("Not only frustrated but also tired.", ["frustrated", "tired"]),
        ("She isn't scared at all, she's excited!", ["excited"]),
        ("He shows no fear, only calm determination.", ["calm", "determined"]),
        ("Without any trace of sadness", []),
        # negation reaches three words, not four
        ("He did not expect to feel so happy.", ["happy"]),
        ("She does not seem to be angry.", []),
        # label-only words are not picked out of free text
        ("The content of the talk is about a lovely blue car.", []),
        ("Joy, JOY and joyful joyfulness", ["joyful"]),
        ("", []),
        ("Sad. Not sad? Sad!", ["sad"]),
        ("He was free of worry and relaxed.", ["relaxed"]),
        ("she seems nervous-ish... nervously tapping", ["nervous"]),
    ],
)
def test_extract(text, expected):
    assert extract_emotions(text) == expected


def test_bad_vocabulary_file(tmp_path):
    bad = tmp_path / "v.csv"
    bad.write_text("word,family,valence,forms\nangry,anger,-0.5,mad\nirate,anger,-0.8,mad\n")
    with pytest.raises(AffectLLMError, match="mad"):
        load_vocabulary(bad)
    with pytest.raises(AffectLLMError, match="cannot read"):
        load_vocabulary(tmp_path / "missing.csv")
    custom = tmp_path / "ok.csv"
    custom.write_text("# mine\nword,family,valence,forms\nglum,sadness,-0.4,~down;down in the dumps\n")
    v = load_vocabulary(custom)
    assert v.normalize("down") == "glum"
    assert extract_emotions("he is down in the dumps, down the road", v) == ["glum"]
