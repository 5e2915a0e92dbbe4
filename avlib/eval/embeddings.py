"""Do embeddings cluster by class? k-means NMI (L3's measure) and AMI, and t-SNE figures.

NMI has a positive floor that grows with the number of clusters (k-means on
noise scores above 0), so every NMI comes with the NMI of the same clusters
against shuffled labels; AMI (scikit-learn's adjusted mutual information) is
corrected for chance (0 for unrelated groupings). When two groupings are
compared (classes vs scenes), both are scored against the *same* clusters.

scikit-learn's k-means and Barnes-Hut t-SNE use OpenMP, whose threads
busy-wait: on a loaded 2-core machine a 40-point t-SNE measured 0.07 s on one
thread and 22 s on two (2,000 points: 7 s vs 42 s). Both run on ``threads``
OpenMP threads, 1 by default; raise it on a dedicated many-core machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from sklearn.cluster import KMeans
from sklearn.manifold import TSNE
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score
from threadpoolctl import threadpool_limits

from avlib.errors import ConfigError
from avlib.figures import palette


def cluster_scores(
    embeddings,
    groupings: dict[str, np.ndarray],
    n_clusters: int,
    seed: int = 0,
    n_init: int = 10,
    threads: int = 1,
) -> dict[str, float]:
    """One k-means clustering scored against every grouping: ``nmi_<g>``, ``ami_<g>`` and the
    NMI floor ``nmi_<g>_shuffled`` (the same clusters against the labels shuffled)."""
    x = np.asarray(embeddings, dtype=float)
    for name, y in groupings.items():
        if len(y) != len(x):
            raise ConfigError(f"{len(x)} embeddings but {len(y)} {name} labels")
    with threadpool_limits(threads, user_api="openmp"):
        clusters = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed).fit_predict(x)
    rng = np.random.default_rng(seed)
    out = {}
    for name, y in groupings.items():
        y = np.asarray(y)
        out[f"nmi_{name}"] = float(normalized_mutual_info_score(y, clusters))
        out[f"ami_{name}"] = float(adjusted_mutual_info_score(y, clusters))
        out[f"nmi_{name}_shuffled"] = float(
            normalized_mutual_info_score(rng.permutation(y), clusters)
        )
    return out


def tsne_figure(
    embeddings,
    labels,
    class_names: Sequence[str] | None = None,
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    title: str | None = None,
    threads: int = 1,
) -> Figure:
    """A 2-D t-SNE of the embeddings, one colour per class."""
    x, y = np.asarray(embeddings, dtype=float), np.asarray(labels)
    perplexity = min(perplexity, (len(x) - 1) / 3)
    tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
    with threadpool_limits(threads, user_api="openmp"):
        points = tsne.fit_transform(x)
    classes = np.unique(y)
    colours = palette(len(classes))
    fig = Figure(figsize=(7, 6.5))
    ax = fig.add_subplot()
    for colour, c in zip(colours, classes, strict=True):
        name = class_names[int(c)] if class_names is not None else str(c)
        ax.scatter(*points[y == c].T, s=10, color=colour, label=name, alpha=0.8)
    ax.set(xticks=[], yticks=[], title=title or "t-SNE of embeddings")
    if len(classes) <= 12:
        ax.legend(fontsize="small", markerscale=1.5, frameon=False, loc="best")
    elif class_names is not None:  # too many for a legend: name the classes that form a cluster
        overall = np.median(np.linalg.norm(points - np.median(points, axis=0), axis=1))
        for c in classes:
            members = points[y == c]
            centre = np.median(members, axis=0)
            if np.median(np.linalg.norm(members - centre, axis=1)) < 0.35 * overall:
                ax.annotate(class_names[int(c)], centre, fontsize=7, ha="center", alpha=0.9)
        ax.text(
            0.01,
            0.01,
            f"{len(classes)} classes; named where they cluster",
            fontsize=7,
            transform=ax.transAxes,
            alpha=0.7,
        )
    return fig
