"""The AffectLLM model: conversations to tokens (``conversation``), samples to batches (``processor``), the
fused model itself (``affect_model``), the answer marker and the question a checkpoint answers."""
