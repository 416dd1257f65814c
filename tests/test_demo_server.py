"""The demo as users meet it: `affectllm demo` in a subprocess on a free loopback port, driven over HTTP.

One server for the module (start ~15 s, models load once). The cue path runs
with `--llm none` so answers are the deterministic cue-fusion rule's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UPLOAD_LIMIT_MB = 1
START_TIMEOUT_S = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, face_clip):
    """(url, log path, examples folder) of a running demo; stopped after the module. The video examples are
    made here from the face photograph (the demo makes only missing ones), so no system face footage is needed."""
    import httpx

    from affectllm.demo.examples import EXAMPLES

    d = tmp_path_factory.mktemp("demo")
    (d / "examples").mkdir()
    for ex in EXAMPLES:
        if ex.kind == "video":
            face_clip(d / "examples" / ex.file, ex.speech, seconds=ex.seconds, pitch=ex.pitch, rate=ex.rate)
    port = free_port()
    log = d / "server.log"
    env = {**os.environ, "AFFECTLLM_CACHE": os.environ.get("AFFECTLLM_CACHE", str(Path.home() / ".cache/affectllm")),
           "GRADIO_TEMP_DIR": str(d / "gradio")}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "affectllm", "demo", "--llm", "none", "--port", str(port),
                                 "--max-upload-mb", str(UPLOAD_LIMIT_MB), "--examples-dir", str(d / "examples")],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"demo exited with {proc.returncode}:\n{log.read_text()}")
            try:
                # Ready: the page answers and the server has said where it listens.
                if "affectllm demo: serving" in log.read_text() and httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"demo did not answer within {START_TIMEOUT_S} s:\n{log.read_text()}")
            time.sleep(0.5)
        yield url, log, d / "examples"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server[0], verbose=False)


def explain(client, video=None, audio=None, text="", subtitle=""):
    """Call /explain; returns (outputs tuple, result record dict)."""
    from gradio_client import handle_file

    out = client.predict(handle_file(str(video)) if video else None, handle_file(str(audio)) if audio else None,
                         text, subtitle, api_name="/explain")
    assert len(out) == 8
    return out, json.loads(out[7])


def test_binds_loopback_and_makes_examples(server):
    url, log, examples = server
    assert f"at {url}" in log.read_text()  # the server says where it listens: 127.0.0.1 unless told otherwise
    made = sorted(p.name for p in examples.iterdir() if not p.name.startswith("."))
    assert made == ["glad_reunion.mp4", "long_day.mp4", "worried_voice.wav"]


def test_face_clip_gives_emotions_explanation_and_evidence(client, tmp_path, face_clip):
    from PIL import Image

    clip = face_clip(tmp_path / "glad.mp4", "I am so happy to see you again. This is wonderful news.")
    out, rec = explain(client, video=clip)
    status, chips, reasoning, gallery, plot, transcript, timeline, _ = out
    assert rec["error"] is None, rec["error"]
    assert rec["path"] == "glad.mp4"  # the server's upload folder is not revealed
    assert "happy" in rec["emotions"]  # said outright ("so happy"), VADER +0.86: the fusion rule must name it
    assert '"I am so happy to see you"' in rec["explanation"]  # the cited lexical cue, quoted
    assert set(rec["reasoning"]) == {"observations", "interpretation", "conclusion"}
    assert rec["answered_by"] == "cue-fusion"
    # Views: chips, highlighted cues of all three modalities, the loaded word marked in the transcript.
    assert "Analysed the video" in status and ">happy<" in chips
    for modality in ("visual", "acoustic", "lexical"):
        assert f"affect-cue-{modality}" in reasoning
    assert ">happy</mark>" in transcript and ">wonderful</mark>" in transcript
    # 16 frames sampled (a 4 s clip is one window), 8 shown; each is the 240x240 frame plus the bar panel, which is
    # taller than the frame (seven bars and the cited cue's name), over a band for the gallery's caption
    from affectllm.demo.frames_view import CAPTION_BAND_PX, PANEL_W, ROW_H, TOP_Y
    from affectllm.demo.prosody_plot import HEIGHT_PX, WIDTH_PX

    assert len(gallery) == 8
    assert all(Image.open(g["image"]).size == (240 + PANEL_W, TOP_Y + 10 * ROW_H + CAPTION_BAND_PX) for g in gallery)
    assert Image.open(plot).size == (WIDTH_PX, HEIGHT_PX)
    assert "timeline of emotions per window" in timeline and "timeline" not in rec


def test_the_explain_endpoint_names_its_outputs(client):
    from affectllm.demo.ui import OUTPUT_NAMES

    api = client.view_api(return_format="dict", print_info=False)
    assert list(api["named_endpoints"]) == ["/explain"]  # the example loader stays private
    endpoint = api["named_endpoints"]["/explain"]
    assert [p["label"] for p in endpoint["parameters"]] == ["Video clip", "Audio clip", "Text (used when no clip is "
                                                             "given)", "Subtitle (optional; analysed instead of the "
                                                             "transcript)"]
    assert [r["label"].split(":")[0] for r in endpoint["returns"]] == list(OUTPUT_NAMES)


def test_bad_uploads_get_a_clear_message_and_the_server_keeps_serving(client, server, tmp_path):
    import httpx

    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n")
    out, rec = explain(client, video=fake)
    assert rec["emotions"] == [] and rec["error"].startswith("notes.mp4: not a readable media file")
    assert "Could not analyse this input: notes.mp4" in out[0]

    txt = tmp_path / "notes.txt"
    txt.write_text("/etc/passwd\n")
    _, rec = explain(client, video=txt)
    assert rec["error"].startswith("notes.txt: not a video or audio file (.txt); upload one of:")

    # Text is only ever text: a path typed into it is analysed as words, never opened.
    _, rec = explain(client, text="/etc/passwd")
    assert rec["error"] is None and "root" not in json.dumps(rec)

    # Over the limit: the upload itself is refused by the server (413), before any handler runs.
    big = os.urandom(int((UPLOAD_LIMIT_MB + 0.5) * 2**20))
    r = httpx.post(server[0] + "gradio_api/upload", files={"files": ("big.mp4", big, "video/mp4")}, timeout=30)
    assert r.status_code == 413

    _, rec = explain(client, text="I am so angry and upset about this.")
    assert sorted(rec["emotions"]) == ["angry", "upset"]  # both said outright; the text model orders them


def test_ten_concurrent_requests_complete(client, tmp_path):
    from affectllm.media.synthetic import write_tone_clip

    tone = write_tone_clip(tmp_path / "tone.mp4", 220.0, "blue", seconds=1.5)
    texts = ["What a wonderful, joyful day!", "I am so afraid of what comes next.", "This is disgusting.",
             "I feel so lonely and sad.", "I'm furious with them.", "I am so proud of you.", "Honestly, I'm bored."]
    # Each said outright, except "joyful", which describes the day: the text model reads joy ("happy").
    expected = ["happy", "afraid", "disgusted", "sad", "furious", "proud", "bored"]
    clips = (1, 5, 8)  # requests that upload the clip; the other seven send text

    def one(i):
        if i in clips:
            return explain(client, video=tone)[1]
        return explain(client, text=texts[i - sum(c < i for c in clips)])[1]

    with ThreadPoolExecutor(10) as pool:
        records = list(pool.map(one, range(10)))
    assert all(r["error"] is None for r in records), [r["error"] for r in records]
    answered = [r for i, r in enumerate(records) if i not in clips]
    for text, word, rec in zip(texts, expected, answered):
        assert word in rec["emotions"], (text, rec["emotions"])
    for r in (records[i] for i in clips):
        assert r["cues"]["face"]["present"] is False  # a plain blue frame holds no face
        assert r["cues"]["has_audio"] is True


def test_page_renders_an_example_in_headless_chromium(server, tmp_path):
    from PIL import Image

    from headless_browser import HeadlessChromium, chromium_path

    if chromium_path() is None:
        pytest.skip("chromium not installed")
    shot = tmp_path / "demo.png"
    with HeadlessChromium(1280, 1000) as browser:
        browser.open(server[0] + "?example=2")  # the 11 s clip: 3 timeline windows of 4 s (the last one 3 s)
        rendered = browser.wait_for("document.querySelectorAll('.affect-seg').length === 3 && "
                                    "document.querySelectorAll('.affect-chip').length > 0", timeout=90)
        assert rendered, browser.evaluate("document.body.innerText.slice(0, 500)")
        assert browser.wait_for("[...document.querySelectorAll('#affect-ev-face img')].some(i => i.naturalWidth > 0)",
                                timeout=20)
        # the timeline sits with the chips, above the evidence panels
        assert browser.evaluate("document.querySelector('.affect-timeline').getBoundingClientRect().top < "
                                "document.querySelector('#affect-ev-face').getBoundingClientRect().top")
        time.sleep(1.0)  # let images decode before the shot
        browser.screenshot(shot)
    # No calls out: everything the page fetched came from the demo itself.
    outside = [u for u in browser.requested if not u.startswith((server[0], "data:", "blob:"))]
    assert browser.requested and not outside, outside
    image = Image.open(shot)
    assert image.width == 1280 and image.height > 1000
    colours = image.convert("RGB").resize((320, image.height // 4)).getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 500  # a rendered page with frames and plots, not a blank canvas
