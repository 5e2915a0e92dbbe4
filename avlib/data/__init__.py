"""The data layer: the procedural world, media decoding, layout readers, decoded cache,
feature front-ends, pair samplers and batch iterables (see ARCHITECTURE.md).

Flow: ``avlib.data.world`` writes real media in the real data sets' layouts;
``open_dataset`` (layouts) -> ``DecodedCache.load`` (cache, decoding through
media) -> a sampler (samplers) -> ``Batches`` (datasets) -> front-ends (features) on
the device. Only features and datasets import torch, so cache workers start light.
"""
