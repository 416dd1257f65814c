"""The zero-setup cue path: what a clip's face, voice and words show, read by models shipped inside PyPI
packages, fused into emotions and a grounded explanation without training (``affectllm caption --llm none``).

- ``extractors``: what is seen and heard, one channel each (the face track, the transcript, the voice's
  prosody, the words' lexicon), and the numpy signal processing under them (pYIN, spectra, sound frames);
- ``heads``: the small trained readers over frozen features (the text head over MiniLM, the voice head over
  Whisper layers and prosodic statistics), their files and their training;
- ``evidence``: each channel as evidence, the prosody rules, the weighing of the channels into the
  deterministic answer (``weigh``), and the texts that cite the cues (``describe``);
- here: ``extract`` runs the extractors on a clip, ``preload`` / ``load_once`` load their models in the
  background, ``llm`` the optional instruct LLM, ``reasoner`` answers (weighed evidence, or the LLM checked
  against it), ``backend`` runs it all for the caption engine.
"""
