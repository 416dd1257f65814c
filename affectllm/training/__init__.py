"""Training: manifest data pipeline, feature cache, DeepSpeed or plain-torch loop, exact resume.

Entry points: :func:`affectllm.training.trainer.train` (what `affectllm train` and
`train/train.py` run) and :func:`affectllm.training.feature_cache.build_feature_cache`
(`affectllm cache-features`).
"""
