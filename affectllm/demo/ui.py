"""The Gradio page: inputs and examples on the left, the answer and its evidence on the right and below.

``build_app(engine, examples_folder, examples)`` returns the Blocks; the one
event, ``explain`` (also the API endpoint ``/explain``), takes
(video, audio, text, subtitle) and returns, in order, the outputs named in
``OUTPUT_NAMES`` (the labels API clients see): status HTML, emotion chips HTML,
reasoning HTML, annotated frames (gallery), pitch/loudness plot, transcript
HTML, timeline HTML and the result record (JSON text). The timeline sits with
the chips; the face, voice and words panels hide when the input has no such
evidence (``panel_update``).
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

import gradio as gr

from affectllm.demo.engine import Analysis, DemoEngine
from affectllm.demo.examples import Example

log = logging.getLogger(__name__)

CSS = """
.affect-chips {display:flex; flex-wrap:wrap; gap:14px; margin:4px 0 6px}
.affect-family {display:flex; align-items:center; gap:6px}
.affect-family-name {font-size:12px; text-transform:uppercase; letter-spacing:.05em; color:#6b7280}
.affect-chip {padding:5px 12px; border-radius:999px; font-weight:600; font-size:16px; color:#1a202c}
.affect-conf {font-weight:400; font-size:12px; margin-left:6px; color:#374151}
.affect-note, .affect-dim {font-size:12.5px; color:#6b7280; margin-top:4px}
.affect-explanation {font-size:15.5px; line-height:1.55; margin-bottom:4px}
.affect-steps {margin-top:10px; border-left:3px solid #cbd5e0; padding-left:12px}
.affect-step {margin:8px 0; line-height:1.5}
.affect-step-name {font-weight:700; text-transform:capitalize; color:#4a5568}
a.affect-cue {text-decoration:none; border-radius:4px; padding:0 3px; color:inherit}
.affect-cue-visual {background:#dbeafe; border-bottom:2px solid #3b82f6}
.affect-cue-acoustic {background:#ede9fe; border-bottom:2px solid #8b5cf6}
.affect-cue-lexical {background:#fef3c7; border-bottom:2px solid #f59e0b}
.affect-legend {font-size:12px; color:#6b7280; margin-top:8px}
mark.affect-word {background:transparent; border:2px solid; border-radius:5px; padding:0 3px; font-weight:600}
mark.affect-negated {text-decoration:line-through}
.affect-transcript {line-height:1.9; margin-bottom:6px}
.affect-timeline {display:flex; width:100%; border-radius:8px; overflow:hidden; border:1px solid #cbd5e0}
.affect-seg {padding:8px 8px; border-right:1px solid #fff; min-height:64px; color:#1a202c}
.affect-seg-time {font-size:11px; color:#4a5568}
.affect-seg-emo {font-weight:700}
.affect-seg-val {font-size:11px; color:#4a5568}
.affect-timeline-title {font-weight:600; margin-bottom:4px}
.affect-error {background:#fde8e8; color:#9b1c1c; border:1px solid #f8b4b4; border-radius:8px; padding:10px 12px;
               font-weight:600}
#affect-ev-face .thumbnail-item {aspect-ratio: 9 / 5}  /* a frame, its bar panel and caption band: no letterbox */
#affect-ev-face .grid-wrap {padding-top: 40px}  /* the first row starts below the panel's label */
.affect-ok {background:#ecfdf5; color:#065f46; border:1px solid #a7f3d0; border-radius:8px; padding:8px 12px}
"""

INTRO = """# affectllm: emotions with their evidence
Upload a video or an audio clip, or type some text. The answer names the emotions **and shows why**: the face in
sampled frames, the voice's pitch and loudness, the words that carry affect, and the reasoning that ties them
together. Everything runs locally; nothing leaves this machine."""


def status_html(analysis: Analysis, engine: DemoEngine) -> str:
    rec = analysis.record
    if rec.error:
        return f'<div class="affect-error">Could not analyse this input: {html.escape(rec.error)}</div>'
    dur = (rec.cues or {}).get("duration") or 0.0
    what = f"{analysis.input_kind} <b>{html.escape(analysis.input_name)}</b>"
    if analysis.input_kind in ("video", "audio"):
        what += f" ({dur:.1f} s)"
    return (f'<div class="affect-ok">Analysed the {what} in {analysis.seconds:.1f} s with '
            f'{html.escape(engine.name)}.</div>')


def render(analysis: Analysis, engine: DemoEngine) -> tuple:
    """An Analysis -> the values of the eight output components (see the module docstring)."""
    from affectllm.demo.chips_view import chips_html
    from affectllm.demo.frames_view import annotated_frames, cited_face_frames
    from affectllm.demo.prosody_plot import prosody_image
    from affectllm.demo.reasoning_view import reasoning_html
    from affectllm.demo.timeline import timeline_html
    from affectllm.demo.transcript_view import transcript_html

    rec = analysis.record
    record_json = json.dumps(rec.to_dict(), ensure_ascii=False, indent=1)
    if rec.error:
        return (status_html(analysis, engine), "", reasoning_html(rec), [], None, "", "", record_json)
    cues = rec.cues or {}
    frames = annotated_frames(analysis.frames, cues.get("face") or {}, cited_face_frames(rec))
    edges = [seg["start"] for seg in analysis.timeline[1:]]
    plot = prosody_image(cues.get("voice") or {}, cues.get("text"), edges)
    timeline = timeline_html(analysis.timeline, float(cues.get("duration") or 0.0))
    if not timeline and analysis.input_kind in ("video", "audio"):
        timeline = '<div class="affect-dim">Clips longer than two windows get a timeline of emotions per window.</div>'
    return (status_html(analysis, engine), chips_html(rec), reasoning_html(rec), frames, plot,
            transcript_html(cues), timeline, record_json)


OUTPUT_NAMES = ("Status", "Emotions", "Explanation", "Face frames", "Voice plot", "Words", "Timeline", "Result record")
FACE, VOICE, WORDS = 3, 4, 5  # evidence panels that hide when the input has no such evidence


def panel_update(value):
    """Show an evidence panel (face gallery, voice plot, words) only while it holds something."""
    empty = value is None or (isinstance(value, (list, str)) and not value)
    return gr.update(visible=not empty)


def build_app(engine: DemoEngine, examples_folder: Path | None = None, examples: list[Example] = ()) -> gr.Blocks:
    def explain(video, audio, text, subtitle, progress=gr.Progress()):
        media, kind = (video, "video") if video else (audio, "audio") if audio else (None, "")
        try:
            analysis = engine.analyze(media, text, subtitle, kind=kind, progress=progress)
        except Exception as err:  # the page must stay up whatever one input does
            log.exception("demo request failed")
            from affectllm.core.records import ResultRecord

            name = Path(media).name if media else "input"
            analysis = Analysis(ResultRecord.failed(name, name, f"internal error ({type(err).__name__}); "
                                                                 "see the server log", engine.name))
        return render(analysis, engine)

    def run_example(video, audio, text, subtitle, progress=gr.Progress()):
        # its own name: Gradio names an event after its function, and "/explain" is the button's endpoint
        return explain(video, audio, text, subtitle, progress)

    with gr.Blocks(title="affectllm demo", analytics_enabled=False) as app:
        outputs = _output_components()
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                inputs, run = _input_column(run_example, outputs, examples_folder, examples)
            with gr.Column(scale=3, min_width=420):
                for i in (0, 1, 6, 2):  # status, chips and the timeline beside them, then the reasoning
                    outputs[i].render()
        _evidence_section(outputs)
        run.click(explain, inputs, outputs, api_name="explain", concurrency_limit=1)
        for i in (FACE, VOICE, WORDS):  # on the page only: API clients get the plain values
            outputs[i].change(panel_update, outputs[i], outputs[i], api_visibility="private", queue=False)

        def example_from_query(request: gr.Request):
            """``/?example=N`` (1-based) runs that example on load: a shareable link that shows evidence."""
            wanted = (request.query_params.get("example") or "").strip() if request else ""
            if not wanted.isdigit() or not 1 <= int(wanted) <= len(examples):
                return [gr.skip()] * (len(inputs) + len(outputs))
            row = example_row(examples[int(wanted) - 1], examples_folder)
            return [*row, *explain(*row)]

        app.load(example_from_query, None, inputs + outputs, api_visibility="private")
    return app


def _output_components() -> list:
    """The eight outputs, made unrendered (so the examples, placed under the inputs, can name them), each
    labelled with its ``OUTPUT_NAMES`` entry: the names API clients see."""
    status, chips, reasoning, face, voice, words, timeline, record = OUTPUT_NAMES
    return [
        gr.HTML('<div class="affect-dim">Pick an example or upload a clip, then press '
                '<b>Explain the emotions</b>.</div>', label=status, render=False),
        gr.HTML(label=chips, render=False),
        gr.HTML('<div class="affect-dim">The emotions, the explanation and its reasoning steps appear '
                'here, each cited cue highlighted by modality.</div>', label=reasoning, render=False),
        gr.Gallery(label=f"{face}: the frames behind the cited face cue (else frames spread over the clip), "
                         "detected box, expression probabilities", columns=2, height=660, object_fit="contain",
                   elem_id="affect-ev-face", render=False),
        gr.Image(label=f"{voice}: pitch and loudness over time (pauses shaded, loaded words marked)", type="numpy",
                 format="png", interactive=False, elem_id="affect-ev-voice", render=False),
        gr.HTML(label=words, elem_id="affect-ev-words", render=False),
        gr.HTML(label=timeline, render=False),
        # JSON text, not gr.JSON: API clients treat any dict with a "path" key as a file to download.
        gr.Code(label=record, language="json", interactive=False, render=False),
    ]


def _input_column(run_example, outputs: list, examples_folder: Path | None, examples: list[Example]) -> tuple:
    """Video / audio / text tabs, the subtitle, the button and the examples; returns (inputs, button)."""
    with gr.Tabs():
        with gr.Tab("Video"):
            video = gr.Video(label="Video clip", sources=["upload"], height=260)
        with gr.Tab("Audio"):
            audio = gr.Audio(label="Audio clip", sources=["upload", "microphone"], type="filepath")
        with gr.Tab("Text"):
            text = gr.Textbox(label="Text (used when no clip is given)", lines=4, max_length=5000)
    subtitle = gr.Textbox(label="Subtitle (optional; analysed instead of the transcript)", lines=2, max_length=5000)
    run = gr.Button("Explain the emotions", variant="primary")
    inputs = [video, audio, text, subtitle]
    if examples:
        gr.Examples([example_row(ex, examples_folder) for ex in examples], inputs, outputs, fn=run_example,
                    run_on_click=True, cache_examples=False, example_labels=[f"{ex.kind}: {ex.name}" for ex in examples],
                    label="Examples (generated locally; click one to run it)")
    return inputs, run


def _evidence_section(outputs: list) -> None:
    """Face frames and the voice plot each at full width (their labels and axes stay readable), then the words
    and the record."""
    gr.Markdown("## Evidence")
    for i in (FACE, VOICE, WORDS):
        outputs[i].render()
    with gr.Accordion("Result record (JSON)", open=False):
        outputs[7].render()


def example_row(ex: Example, folder: Path | None) -> list:
    """The (video, audio, text, subtitle) input values of one example."""
    path = str(folder / ex.file) if ex.file and folder else None
    return [path if ex.kind == "video" else None, path if ex.kind == "audio" else None,
            ex.text if ex.kind == "text" else "", ""]
