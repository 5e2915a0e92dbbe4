"""Every claim of PAPERS.md, and the code that tests it once its chapter exists.

A claim's ``compare(data, margin)`` reads the aggregated seeds of the
experiments in ``reads`` (``"paper/experiment"``, as written by
:mod:`avlib.experiments`) and returns a :class:`~avlib.claims.core.Comparison`.
Margins are in the metric's units (fractions for accuracies). A claim whose
chapter is not written yet has no test and evaluates to "no results yet".
"""

from __future__ import annotations

from avlib.claims.core import Claim, all_of, at_least, close_to, greater

_L3, _OTS = "arandjelovic2017look", "arandjelovic2018objects"
_AVTS, _PM, _SN, _AT = (
    "korbar2018cooperative",
    "chung2019perfect",
    "aytar2016soundnet",
    "khosravan2019attention",
)


def _claims(paper: str, cite: str, statements: dict[str, str]) -> list[Claim]:
    return [Claim(cid, paper, text, cite) for cid, text in statements.items()]


# --- L3 (notebooks/01_l3.ipynb; experiments in avlib/experiments/l3.py) ----------------------
_KIN, _SUP, _FLI, _LOC = "l3/l3-kinetics", "l3/l3-supervised", "l3/l3-flickr", "l3/l3-localisation"


def _l3_1(d, margin):
    acc = d[_KIN].metric("avc_acc")
    return all_of(
        greater(acc, 0.5, 0.10), close_to(acc, d[_SUP].metric("avc_acc_pretrained"), margin)
    )


def _l3_3(d, margin):
    f = d[_FLI]
    return all_of(
        greater(f.metric("esc50_acc"), f.metric("esc50_acc_random"), margin),
        greater(f.metric("dcase_acc"), f.metric("dcase_acc_random"), margin),
    )


def _l3_4(d, margin):
    f = d[_FLI]
    conv4 = f.metric("probe_block4")
    return all_of(
        greater(conv4, f.metric("probe_block4_random"), margin),
        at_least(conv4, f.metric("probe_block1")),
        at_least(conv4, f.metric("probe_block2")),
    )


def _l3_5(d, margin):
    k = d[_KIN]
    return all_of(
        greater(k.metric("nmi_vision"), k.metric("nmi_vision_random"), margin),
        greater(k.metric("nmi_audio"), k.metric("nmi_audio_random"), margin),
    )


L3_CLAIMS = [
    Claim(
        "L3-1",
        "l3",
        "AVC trained from scratch reaches accuracy far above chance (50%) and close to a "
        "supervised-pretraining baseline of the same architecture.",
        _L3,
        (_KIN, _SUP),
        _l3_1,
        margin=0.05,  # 'far': > 60 %; 'close': within 5 points
    ),
    Claim(
        "L3-2",
        "l3",
        "AVC beats the direct combination of two supervised classifiers.",
        _L3,
        (_KIN, _SUP),
        lambda d, m: greater(d[_KIN].metric("avc_acc"), d[_SUP].metric("avc_acc_direct"), m),
    ),
    Claim(
        "L3-3",
        "l3",
        "Frozen L3 audio features + linear SVM beat random-init features on ESC-50 and DCASE "
        "(and beat SoundNet features on the same protocol).",
        _L3,
        (_FLI,),
        _l3_3,
    ),
    Claim(
        "L3-4",
        "l3",
        "Frozen L3 vision features + linear probe beat random init on the image-classification "
        "probe (ILSVRC analogue); conv4 is a good layer.",
        _L3,
        (_FLI,),
        _l3_4,
    ),
    Claim(
        "L3-5",
        "l3",
        "Embeddings cluster by semantic class (NMI above random).",
        _L3,
        (_KIN,),
        _l3_5,
    ),
    Claim(
        "L3-6",
        "l3",
        "Activation maps localise the sounding object (localisation accuracy above a centre "
        "prior).",
        _OTS,
        (_LOC,),
        lambda d, m: greater(d[_LOC].metric("pointing"), d[_LOC].metric("pointing_centre"), m),
    ),
]


# fmt: off
CLAIM_LIST: list[Claim] = [
    *L3_CLAIMS,
    *_claims("avts", _AVTS, {
        "AVTS-1": "Curriculum (easy, then easy:hard 3:1) beats easy-only on the sync task and "
                  "on downstream probes.",
        "AVTS-2": "Hard negatives from the start train worse than the curriculum.",
        "AVTS-3": "Adding super-hard negatives does not help.",
        "AVTS-4": "The contrastive loss trains at least as well as binary cross-entropy on the "
                  "same pairs.",
        "AVTS-5": "AVTS pre-training beats training from scratch on the action-recognition "
                  "analogue (fine-tune) and gives strong frozen audio features (ESC).",
    }),
    *_claims("perfect_match", _PM, {
        "PM-1": "Multi-way beats SyncNet (contrastive) and AVE-Net (binary) on sync accuracy "
                "at every context length.",
        "PM-2": "Accuracy rises with the number of frames in the context.",
        "PM-3": "Accuracy depends on N, with a best N well above 2 (sweep N).",
        "PM-4": "Frozen multi-way embeddings give better word recognition than the baselines' "
                "embeddings, near an end-to-end model.",
    }),
    *_claims("soundnet", _SN, {
        "SN-1": "KL distillation beats L2 regression on the teachers' outputs.",
        "SN-2": "Two teachers (objects + scenes) beat either alone.",
        "SN-3": "With teachers the deeper net wins; from scratch the deeper net loses.",
        "SN-4": "The best probe layer is in the middle (pool5/conv6), not the top.",
        "SN-5": "SoundNet features beat MFCC + SVM and an autoencoder baseline.",
        "SN-6": "Sound + vision beats either alone on the scene task.",
    }),
    *_claims("attention", _AT, {
        "AT-1": "Temporal attention beats plain averaging on sync accuracy.",
        "AT-2": "Spatio-temporal attention is at least as good as temporal, with a smaller "
                "extra gain.",
        "AT-3": "The gains hold on a test domain not seen in training (impact sounds).",
        "AT-4": "Attention converges faster (steps to a target accuracy).",
        "AT-5": "Chunks/regions where the synchronising event is get the highest attention "
                "weights (measurable on our world, where we know where it is).",
    }),
]
# fmt: on
