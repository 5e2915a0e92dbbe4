"""Evaluation toolkit shared by the chapters.

- ``probes``: linear SVM / logistic regression on frozen features, k-fold by
  the data set's folds, sliding-window clips, per-layer feature taps.
- ``finetune``: a classifier head on a pretrained encoder, trained by the one
  trainer; scratch vs pretrained.
- ``sync``: SyncNet-style offset search, context averaging, accuracy within
  ±1 frame, collapse check.
- ``localisation``: audio-to-vision similarity maps, cIoU / AUC / AP50,
  pointing game, centre prior.
- ``embeddings``: k-means NMI with a random reference, t-SNE figures.

Eval reaches models only through their embedding functions (STYLE rule 13).
"""
