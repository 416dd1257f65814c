"""Load the cue models in background threads while the first clip decodes and the other extractors run.

A cold one-clip caption spends most of its time loading: the text head's encoder, Whisper (for
the words, and its encoder layers for the voice head), the voice head and the face graphs. Loaded
one after the other, on first use, they add up; started together as soon as the backend exists,
the native parts (CTranslate2, LiteRT, reading weights, the decoder process, the extractors'
inference) overlap with the Python-bound imports. Imports hold the GIL, so two of them in threads
take as long as one after the other: only overlap with native work saves time
(``benchmarks/bench_cold_start.py`` measures it).

Each load goes through the same once-per-process loader the extractors call, so an extractor
that needs a model still loading waits for it (see :func:`affectllm.cues.load_once.load_once`) instead of loading a
second copy. A load that fails is kept and raised by :meth:`ModelPreload.wait`, which the
caption engine calls before it writes the first record: a broken install is one setup error,
not an error record per clip.
"""

from __future__ import annotations

import threading
from typing import Callable


def cue_model_loads(whisper: str | None = None, drop: frozenset[str] = frozenset()) -> dict[str, Callable[[], object]]:
    """The loads a caption needs, in the order the extractors need them; modalities in ``drop`` are never read."""

    def face():
        from affectllm.cues.extractors.face import face_extractor

        return face_extractor()

    def speech():
        from affectllm.cues.extractors.speech import whisper_model

        return whisper_model(whisper)

    def text():
        from affectllm.cues.heads.text_head import default_text_head

        return default_text_head()

    def voice():
        from affectllm.cues.heads.voice_head import default_voice_head

        return default_voice_head().features.load()

    loads = {"face": face, "speech": speech, "voice": voice, "text": text}
    skipped = {"video": ("face",), "audio": ("speech", "voice"), "text": ("text",)}
    for modality in drop:
        for name in skipped.get(modality, ()):
            loads.pop(name)
    return loads


class ModelPreload:
    """Runs each load in its own daemon thread from construction; :meth:`wait` joins them."""

    def __init__(self, loads: dict[str, Callable[[], object]]):
        self.errors: dict[str, BaseException] = {}
        self.threads = [threading.Thread(target=self._run, args=(name, load), name=f"load-{name}", daemon=True)
                        for name, load in loads.items()]
        for thread in self.threads:
            thread.start()

    def _run(self, name: str, load: Callable[[], object]) -> None:
        try:
            load()
        except BaseException as err:  # kept for wait(): a thread's exception would otherwise only be printed
            self.errors[name] = err

    def join(self, name: str) -> None:
        """Wait for one load (not started: nothing to wait for); its failure is left to :meth:`wait`."""
        for thread in self.threads:
            if thread.name == f"load-{name}":
                thread.join()

    def wait(self) -> None:
        """Join every load; raise the first failure (in load order) as it was raised."""
        for thread in self.threads:
            thread.join()
        for thread in self.threads:
            err = self.errors.get(thread.name.removeprefix("load-"))
            if err is not None:
                raise err
