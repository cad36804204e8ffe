"""PNG figures for quality runs (needs matplotlib: ``pip install 'hybridmem[bench]'``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import HybridMemError
from . import metrics
from .quality import Samples

__all__ = ["latency_cdf", "reliability_diagrams"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise HybridMemError("--plot needs matplotlib: pip install 'hybridmem[bench]'") from exc
    return plt


def reliability_diagrams(samples: dict[str, Samples], title: str, out: Path) -> Path:
    """One panel per system: fraction relevant against mean relativity, per 15 bins."""
    plt = _pyplot()
    n = len(samples)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.4), squeeze=False)
    for ax, (name, s) in zip(axes[0], samples.items(), strict=True):
        count, conf, acc = metrics.reliability(s.probs, s.labels)
        used = count > 0
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        left = np.arange(len(count))[used] / len(count)
        ax.bar(left, acc[used], width=1 / len(count), align="edge", alpha=0.6,
               edgecolor="black", lw=0.4)  # fmt: skip
        ax.plot(conf[used], acc[used], "o", ms=3, color="black")  # mean relativity per bin
        ece = metrics.ece(s.probs, s.labels)
        ax.set_title(f"{name}\nECE {ece:.3f}", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("relativity")
    axes[0][0].set_ylabel("fraction relevant")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def latency_cdf(samples: dict[str, Samples], title: str, out: Path) -> Path:
    """Empirical CDF of per-query search latency (ms), one line per system."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for name, s in samples.items():
        ms = np.sort(np.asarray(s.seconds) * 1000.0)
        ax.plot(ms, np.arange(1, len(ms) + 1) / len(ms), label=name)
    ax.set_xscale("log")
    ax.set_xlabel("search latency (ms, log scale)")
    ax.set_ylabel("fraction of queries")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
