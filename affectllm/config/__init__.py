"""Typed configuration: the schema (``schema``), its coercion from YAML (``coercion``), where model and data
paths point (``paths``, ``model_sources``: local folders, bundled models, hub ids), the shipped configs."""
