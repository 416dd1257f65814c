"""The Gradio explanation demo: emotions, the reasoning, and the evidence from each modality.

    from affectllm.demo import launch_demo
    launch_demo(model="cues")            # http://127.0.0.1:7860

Library side of ``affectllm demo`` and ``demo/app.py``: ``engine`` (one
request: check, decode, caption, timeline), ``ui`` (the page), views that
render evidence (``frames_view``, ``prosody_plot``, ``transcript_view``,
``reasoning_view``, ``chips_view``, ``timeline``), ``examples`` (generated
example clips) and ``launch`` (safe serving defaults).
"""

from affectllm.demo.launch import launch_demo

__all__ = ["launch_demo"]
