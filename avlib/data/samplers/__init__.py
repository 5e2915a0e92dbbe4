"""The papers' pair logic, once: deterministic, seedable, resumable samplers of audio/video windows.

One module per sampler family, each imported from its own module:
:mod:`~avlib.data.samplers.base` holds what they all share (``KINDS``,
:class:`~avlib.data.samplers.base.Windows`, :class:`~avlib.data.samplers.base.PairSampler`),
:mod:`~avlib.data.samplers.correspondence` L3's ``AVCSampler``,
:mod:`~avlib.data.samplers.shifts` AVTS's ``AVTSSampler`` (with ``Curriculum``
and ``event_period``) and the attention paper's ``ShiftedNegativeSampler``,
:mod:`~avlib.data.samplers.candidates` Perfect Match's ``OffsetCandidatesSampler``,
and :mod:`~avlib.data.samplers.crops` the ``CropSampler`` of SoundNet's student
and the baselines.
"""
