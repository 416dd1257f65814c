"""Library chatter that does not belong on a command line (weight-loading bars, backend notices)."""

import logging
import os
import warnings


def quiet_libraries(load: bool = True) -> None:
    """Silence transformers, hub progress bars and DeepSpeed's notices. ``load=False`` imports nothing: only
    the settings the libraries read when they are first imported, for a command that may never import them
    (the cue path reads no checkpoint; importing torch and transformers just to silence them costs seconds)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # the level transformers starts at when imported
    logging.getLogger("DeepSpeed").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    if not load:
        return
    import torch

    if not torch.cuda.is_available():
        os.environ.setdefault("DS_ACCELERATOR", "cpu")  # skips DeepSpeed's accelerator-detection warning
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
