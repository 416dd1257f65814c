"""Chain-of-thought templates (YAML files holding Jinja strings).

This folder installs as the package ``affectllm.prompt_templates`` (pyproject
``package-dir``) only so that the templates ship inside wheels; ``affectllm.reasoning.prompts``
finds and renders them.
"""
