"""A confusion matrix as a PNG: gold classes down, predicted labels across, each cell's count written in it
and shaded by its share of the gold row (so a rare class's row reads as clearly as the majority's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def confusion_chart(confusion: dict[str, Any], png_path: str | Path, title: str = "confusion matrix") -> Path:
    """Draw ``confusion`` (``{"gold", "predicted", "matrix"}`` of :mod:`affectllm.eval.uncertainty`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    matrix = np.array(confusion["matrix"], dtype=float)
    rows, cols = matrix.shape
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * cols + 2.0), max(3.0, 0.55 * rows + 1.8)))
    ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(rows):
        for j in range(cols):
            ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(cols))
    ax.set_xticklabels(confusion["predicted"], rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(rows))
    ax.set_yticklabels(confusion["gold"], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return png_path
