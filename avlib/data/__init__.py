"""The data layer: the procedural world, media decoding, layout readers, decoded cache,
feature front-ends, pair samplers and batch iterables (see ARCHITECTURE.md).

Nothing here imports torch at import time except features, datasets and samplers'
consumers, so cache worker processes start light.
"""
