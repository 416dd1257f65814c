"""Errors a user can cause. The CLI prints them as one line, never a traceback."""


class AffectLLMError(Exception):
    """Base class: bad input, bad config, missing file. The message names the input and the fix."""


class ConfigError(AffectLLMError):
    """A config file or override is wrong (unknown key, bad value, missing path)."""


class MediaError(AffectLLMError):
    """A media file cannot be used (missing, empty, truncated, not media)."""


class FeatureCountError(AffectLLMError):
    """Placeholder tokens and media features disagree in number."""


class SetupError(AffectLLMError):
    """The backend cannot caption anything (a model that failed to load in the background): the run stops
    before its first record is written, instead of writing an error record per input."""
