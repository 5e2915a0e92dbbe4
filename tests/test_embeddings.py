"""NMI and AMI separate clustered from random embeddings; t-SNE draws one colour per class."""

import numpy as np
from matplotlib.figure import Figure

from avlib.eval.embeddings import cluster_scores, tsne_figure


def blobs(n_per_class=20, classes=4, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = 10 * rng.standard_normal((classes, dim))
    labels = np.repeat(np.arange(classes), n_per_class)
    return centres[labels] + rng.standard_normal((len(labels), dim)), labels


def test_cluster_scores_are_one_for_separated_classes_and_near_zero_ami_for_noise():
    x, y = blobs()
    scores = cluster_scores(x, {"class": y}, 4)
    assert scores["nmi_class"] == 1.0 and scores["ami_class"] == 1.0
    assert scores["nmi_class_shuffled"] < 0.2
    noise = np.random.default_rng(1).standard_normal(x.shape)
    random = cluster_scores(noise, {"class": y}, 4)
    assert abs(random["ami_class"]) < 0.1, "AMI is corrected for chance"


def test_two_groupings_are_scored_on_the_same_clusters():
    x, y = blobs(classes=4)
    coarse = y // 2  # two scenes, each holding two classes
    scores = cluster_scores(x, {"class": y, "scene": coarse}, 4)
    assert scores["nmi_class"] == 1.0 and scores["nmi_scene"] < 1.0
    assert scores["ami_scene"] > 0.5


def test_tsne_figure_has_one_scatter_per_class():
    x, y = blobs(n_per_class=10)
    fig = tsne_figure(x, y, class_names=["a", "b", "c", "d"], perplexity=5)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.collections) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c", "d"]
