"""The zero-setup cue path: what a clip's face, voice and words show, read by models shipped inside PyPI
packages, fused into emotions and a grounded explanation without training (``affectllm caption --llm none``).

Extractors (face*, speech, voice*, lexicon, text_head) read one channel each; channels and cue_fusion weigh
them; describe and reasoner turn them into words; backend runs them for the caption engine.
"""
