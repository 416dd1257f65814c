"""From cues to an answer without an LLM: each channel as evidence (``channels``), arousal rules over the voice
(``prosody_rules``), the channels weighed into emotions, sentiment and an explanation (``weigh``), and the
short texts that quote the cues (``describe``)."""
