"""Chain-of-thought templates (YAML files holding Jinja strings).

This folder is a package only so that the templates ship inside wheels;
`affectllm.prompts` renders them.
"""
