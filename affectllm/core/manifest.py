"""The manifest contract: which media a sample holds, what its tags ask the model to see, what it asks.

A manifest is JSONL, one sample per line, in the multimodal ShareGPT style
LLaMA-Factory and ms-swift read, plus emotion fields::

    {"id": "s1",
     "messages": [{"role": "user", "content": "<video><audio>What is the speaker feeling?"},
                  {"role": "assistant", "content": "...", "loss": true}],
     "videos": ["clips/s1.mp4"], "audios": [], "subtitle": "...", "emotions": [...], "valence": -0.6}

The media rule, in one place (recipes, ``recipe check``, autocaption,
training, caption, benchmark and the demo all call ``media_spec``):

1. ``videos`` holds at most one video or image and ``audios`` at most one
   audio file: the model encodes one clip per modality and sample, so a
   sample with more is refused (split it into one sample per clip).
2. The tags in the first user turn say what the model sees, each at most once
   and nowhere else: ``<video>`` the frames of ``videos[0]``; ``<audio>`` the
   sound of ``audios[0]``, or, without one, the video's own audio track. A
   file needs its tag and a tag needs its file (``<audio>`` is satisfied by a
   video, not by an image); a video whose ``<audio>`` is not tagged is seen
   without its sound.
3. A tagged stream the file turns out not to have (a video without an audio
   track, decoded) is left out: its tag disappears and the sample stays valid.
4. Tags are replaced where they stand by the media's placeholder tokens
   (``affectllm.model.conversation.expand_user_content``); the subtitle line and the
   fused tokens follow the last media tag (or stand at ``<subtitle>``).

Media paths are relative to the manifest's folder unless absolute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectllm.core.errors import AffectLLMError
from affectllm.core.media_constants import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, MODALITIES

VIDEO_TAG, AUDIO_TAG = "<video>", "<audio>"
MEDIA_TAG_RE = re.compile(re.escape(VIDEO_TAG) + "|" + re.escape(AUDIO_TAG))
IN_MEMORY = "<in-memory clip>"  # what a sample's preloaded ``clip`` (generated data) stands for


class ManifestError(AffectLLMError):
    """A sample breaks the manifest contract (the message names the sample and the fix)."""


@dataclass(frozen=True)
class MediaSpec:
    """What one sample holds and what its tags ask for.

    ``video``: ``videos[0]`` as written (or ``IN_MEMORY``); ``audio``: ``audios[0]`` as written;
    ``see_video`` / ``hear_audio``: the ``<video>`` / ``<audio>`` tags."""

    video: str | None = None
    audio: str | None = None
    see_video: bool = False
    hear_audio: bool = False

    @property
    def audio_from_video(self) -> bool:
        """``<audio>`` means the video's own track (no separate audio file)."""
        return self.hear_audio and self.audio is None

    @property
    def sound_source(self) -> str | None:
        """The file whose sound this sample holds, tagged or not (for a transcript): the audio file, else the video."""
        if self.audio is not None:
            return self.audio
        return self.video if self.video is not None and not is_image(self.video) else None


def is_image(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def is_audio(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def media_tags(video: str | Path | None, audio: str | Path | None = None, video_sound: bool | None = None) -> str:
    """The tags a writer puts in front of a sample's question: ``<video>`` for a video or image, ``<audio>`` for an
    audio file or for a video's own track (``video_sound``: whether the video has one; default: any video file)."""
    hears = audio is not None or (video is not None and not is_image(video)
                                  and (video_sound if video_sound is not None else True))
    return (VIDEO_TAG if video is not None else "") + (AUDIO_TAG if hears else "")


def _path_list(sample: dict, key: str, where: str) -> list[str]:
    value = sample.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ManifestError(f'{where}: "{key}" must be a list of paths, got {value!r}; write e.g. ["clip.mp4"]')
    if len(value) > 1:
        raise ManifestError(f'{where}: "{key}" holds {len(value)} files; a sample takes one video (or image) and one '
                            "audio file; split it into one sample per clip")
    return value


def check_messages(sample: dict, where: str) -> list[dict]:
    """The sample's ``messages``, checked: a list of {role, content} with at least one user turn."""
    messages = sample.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ManifestError(f'{where}: each sample needs a "messages" list with a user turn')
    for k, m in enumerate(messages, start=1):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            raise ManifestError(f'{where}: message {k} must be {{"role": ..., "content": "text"}}, got {m!r}')
    if not any(m["role"] == "user" for m in messages):
        raise ManifestError(f"{where}: no user turn in messages; the question goes in a user message")
    return messages


def media_spec(sample: dict, where: str | None = None, question_optional: bool = False) -> MediaSpec:
    """The sample's media and tags, checked against the rule of the module docstring; ManifestError otherwise.

    ``question_optional``: an entry without ``messages`` is a bare list of media to caption; its tags are
    implied (``media_tags``: the files seen and heard)."""
    where = where or f"sample {sample.get('id', '?')!r}"
    videos, audios = _path_list(sample, "videos", where), _path_list(sample, "audios", where)
    video = videos[0] if videos else (IN_MEMORY if sample.get("clip") is not None else None)
    audio = audios[0] if audios else None
    if question_optional and "messages" not in sample:
        sample = dict(sample, messages=[{"role": "user", "content": media_tags(video, audio)}])
    messages = check_messages(sample, where)
    if video is not None and video != IN_MEMORY and is_audio(video):
        raise ManifestError(f'{where}: "videos" holds the audio file {video}; put it in "audios"')
    if audio is not None and is_image(audio):
        raise ManifestError(f'{where}: "audios" holds the image {audio}; put it in "videos"')
    first_user = next(i for i, m in enumerate(messages) if m["role"] == "user")
    for i, m in enumerate(messages):
        if i != first_user and MEDIA_TAG_RE.search(m["content"]):
            raise ManifestError(f"{where}: media tags belong in the first user turn; message {i + 1} ({m['role']}) "
                                "has one")
    text = messages[first_user]["content"]
    n_video, n_audio = text.count(VIDEO_TAG), text.count(AUDIO_TAG)
    if n_video > 1 or n_audio > 1:
        tag = VIDEO_TAG if n_video > 1 else AUDIO_TAG
        raise ManifestError(f"{where}: {tag} appears {max(n_video, n_audio)} times; a sample takes one video and one "
                            "audio, so each tag appears once")
    if n_video and video is None:
        raise ManifestError(f'{where}: the user turn has <video> but "videos" is empty; add the clip or remove the tag')
    if video is not None and not n_video:
        raise ManifestError(f"{where}: videos holds {video} but the user turn has no <video> tag; put <video> where "
                            "the clip belongs")
    if audio is not None and not n_audio:
        raise ManifestError(f"{where}: audios holds {audio} but the user turn has no <audio> tag; put <audio> where "
                            "the sound belongs")
    if n_audio and audio is None and (video is None or is_image(video)):
        what = f"the image {video}" if video is not None else "no video"
        raise ManifestError(f'{where}: the user turn has <audio> but "audios" is empty and {what} has no sound track; '
                            "add the audio file or remove the tag")
    return MediaSpec(video=video, audio=audio, see_video=bool(n_video), hear_audio=bool(n_audio))


def check_drop(drop) -> frozenset[str]:
    """The modalities to leave out, checked (one line naming the bad one)."""
    drop = frozenset(drop or ())
    unknown = sorted(drop - set(MODALITIES))
    if unknown:
        raise AffectLLMError(f"--drop {unknown[0]}: not a modality; choose from {', '.join(MODALITIES)}")
    return drop


def withhold(sample: dict, drop: frozenset[str] | tuple[str, ...]) -> dict:
    """``sample`` without the ``drop``ped modalities (``video``, ``audio``, ``text``: an ablation), made exactly
    like a sample that never had them: the files leave ``videos`` / ``audios`` and their tags leave the first
    user turn; ``text`` empties the subtitle. A video left out whose own sound is heard keeps the sound (the
    file moves to ``audios``), and audio left out from a video leaves it seen without sound (the media rule)."""
    if not drop:
        return sample
    spec = media_spec(sample)
    out = dict(sample)
    removed = []
    if "video" in drop and spec.video is not None:
        out["videos"], removed = [], [VIDEO_TAG]
        if spec.hear_audio and spec.audio is None and "audio" not in drop:
            out["audios"] = [spec.video]  # the clip's own sound track, heard without its frames
    if "audio" in drop:
        out["audios"] = []
        removed.append(AUDIO_TAG)
    if "text" in drop:
        out["subtitle"] = ""
    if removed:
        first = next(i for i, m in enumerate(out["messages"]) if m["role"] == "user")
        turn = dict(out["messages"][first])
        for tag in removed:
            turn["content"] = turn["content"].replace(tag, "")
        out["messages"] = [*out["messages"][:first], turn, *out["messages"][first + 1:]]
    return out


CONTEXT_TURN_KEYS = ("speaker", "text", "videos", "audios")


def check_context(sample: dict, where: str) -> list[dict]:
    """The sample's ``context``, checked; [] when it has none.

    ``context`` lists the previous turns of the sample's dialogue, oldest first, each
    ``{"speaker": str, "text": str}`` with optional ``"videos"`` / ``"audios"`` (one file each, relative to the
    manifest's folder like the sample's own media). Recipes write it with ``--context K``."""
    context = sample.get("context")
    if context is None:
        return []
    if not isinstance(context, list):
        raise ManifestError(f'{where}: "context" must be a list of previous turns [{{"speaker": ..., "text": ...}}], '
                            f"got {context!r}")
    for k, turn in enumerate(context, start=1):
        at = f"{where}: context turn {k}"
        if not isinstance(turn, dict):
            raise ManifestError(f'{at} must be {{"speaker": ..., "text": ...}}, got {turn!r}')
        unknown = sorted(set(turn) - set(CONTEXT_TURN_KEYS))
        if unknown:
            raise ManifestError(f"{at} has unknown key(s) {', '.join(unknown)}; a turn holds "
                                f"{', '.join(CONTEXT_TURN_KEYS)}")
        for key in ("speaker", "text"):
            if not isinstance(turn.get(key), str):
                raise ManifestError(f'{at}: "{key}" must be text, got {turn.get(key)!r}')
        media = _path_list(turn, "videos", at) + _path_list(turn, "audios", at)
        if not (turn["text"].strip() or media):
            raise ManifestError(f"{at} has no text and no media; leave the turn out")
    return context


def retag(question: str, video: str | Path | None, audio: str | Path | None = None) -> str:
    """``question`` with its media tags set for these files (``media_tags``), where its first tag stood or in front.

    For asking one generic question about files of any kind (a video, an image, an audio file, none)."""
    tags = media_tags(video, audio)
    first = MEDIA_TAG_RE.search(question)
    bare = MEDIA_TAG_RE.sub("", question)
    at = first.start() if first else 0
    return bare[:at] + tags + bare[at:]


def prompt_turns(sample: dict) -> list[dict[str, Any]]:
    """The conversation up to its last user turn: what a model is asked (the reference answer is left out)."""
    messages = sample.get("messages") or []
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return [dict(m) for m in messages[: last_user + 1]]
