"""NMI separates clustered from random embeddings; t-SNE draws one colour per class."""

import numpy as np
from matplotlib.figure import Figure

from avlib.eval.embeddings import kmeans_nmi, random_reference_nmi, tsne_figure


def blobs(n_per_class=20, classes=4, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = 10 * rng.standard_normal((classes, dim))
    labels = np.repeat(np.arange(classes), n_per_class)
    return centres[labels] + rng.standard_normal((len(labels), dim)), labels


def test_nmi_is_one_for_separated_classes_and_low_for_random_embeddings():
    x, y = blobs()
    assert kmeans_nmi(x, y) == 1.0
    assert random_reference_nmi(y, dim=8) < 0.2


def test_tsne_figure_has_one_scatter_per_class():
    x, y = blobs(n_per_class=10)
    fig = tsne_figure(x, y, class_names=["a", "b", "c", "d"], perplexity=5)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.collections) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c", "d"]
