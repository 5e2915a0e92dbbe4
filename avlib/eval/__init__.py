"""Evaluation toolkit shared by the chapters.

- ``probes``: linear SVM / logistic regression on frozen features, k-fold by
  the data set's folds, sliding-window clips, per-layer feature taps.
- ``finetune``: a classifier head on a pretrained encoder, trained by the one
  trainer; scratch vs pretrained.
- ``sync``: SyncNet-style offset search, context averaging, accuracy within
  ±1 frame, collapse check.
- ``localisation``: up-sampled maps, cIoU / AUC / AP50, pointing game with
  random tie-breaks, centre prior and random-point baselines.
- ``embeddings``: one k-means clustering scored by NMI (with a shuffled-label
  floor) and AMI against several groupings, t-SNE figures.
- ``calibration``: the world's difficulty checks (MFCC + SVM, shuffled labels,
  shortcut controls, mouth sync).

Eval reaches models only through their embedding functions and
``feature_taps`` (STYLE rule 13).
"""
