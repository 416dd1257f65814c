"""Checkpoints: the folder layout and loading (``layout``), what a checkpoint's config may point at (``trust``),
export and the model card, and the tiny random-init models tests and users build (``tiny``)."""
