"""The scorecard: one line per claim from the results files, badges a reader can tell apart
without colour, a CSV, a summary figure, and cross-paper tables gathered from the chapters."""

import io

import pandas as pd
import pytest

from avlib import chapters, cross_tables, scorecard
from avlib.chapters import l3
from avlib.claims import claims
from avlib.errors import ConfigError
from avlib.results import Selection, save_result

AVC_GOOD = {
    "avc_acc": (0.80, 0.81, 0.82),
    "avc_val_gain_last_quarter": (0.0, 0.01, 0.0),
    "esc50_acc": (0.60, 0.62, 0.61),
    "esc50_acc_random": (0.40, 0.41, 0.39),
    "dcase_acc": (0.70, 0.72, 0.71),
    "dcase_acc_random": (0.50, 0.52, 0.51),
    **{f"probe_conv{i}": (0.2 + 0.05 * i, 0.21 + 0.05 * i, 0.2 + 0.05 * i) for i in range(1, 5)},
    "probe_conv4_random": (0.10, 0.11, 0.12),
    **{f"nmi_{m}": (0.40, 0.41, 0.42) for m in ("vision", "audio")},
    **{f"nmi_{m}_random": (0.20, 0.21, 0.20) for m in ("vision", "audio")},
}


def _write(tmp_path, experiment, metrics, paper="l3"):
    for seed in range(len(next(iter(metrics.values())))):
        save_result(profile="quick", paper=paper, experiment=experiment, seed=seed,
                    metrics={k: v[seed] for k, v in metrics.items()}, results_dir=tmp_path)  # fmt: skip


def _l3_results(tmp_path, direct=(0.60, 0.61, 0.62), **avc):
    _write(tmp_path, "l3-avc", {**AVC_GOOD, **avc})
    _write(tmp_path, "l3-supervised", {"vision_acc": (0.40, 0.41, 0.42),
                                       "audio_acc": (0.70, 0.71, 0.72),
                                       "avc_acc_pretrained": (0.78, 0.80, 0.79),
                                       "avc_acc_direct": direct})  # fmt: skip


def _by_claim(scores):
    return {s.claim: s for s in scores}


def test_every_claim_of_every_chapter_gets_a_line_with_its_chapter_and_section(tmp_path):
    _l3_results(tmp_path)
    scores = scorecard.score(Selection("quick", tmp_path))
    assert [s.claim for s in scores] == list(claims())
    lines = _by_claim(scores)
    assert lines["L3-2"].link == f"{l3.NOTEBOOK}.html#results-audio-visual-correspondence"
    assert lines["L3-2"].paper_title == l3.TITLE
    for s in scores:  # a chapter without a notebook links nowhere, and says nothing of ours
        if getattr(chapters.get(s.paper), "NOTEBOOK", None) is None:
            assert s.link is None and s.verdict == "no results yet" and s.ours == scorecard.NONE


def test_a_line_shows_the_papers_numbers_ours_and_the_gates(tmp_path):
    _l3_results(tmp_path)
    line = _by_claim(scorecard.score(Selection("quick", tmp_path)))["L3-2"]
    assert [v for _, v in line.paper_numbers] == ["74 %", "65 %"]
    assert line.ours.startswith("81.0 ± ") and line.ours.endswith("% (3 seeds)")
    assert line.ours_summary.n == 3 and line.ours_summary.ci_low < 81.0 < line.ours_summary.ci_high
    assert ("L3 AVC above 56%", True) in line.gates
    assert line.verdict == "reproduced"
    assert "l3/l3-avc:avc_acc - l3/l3-supervised:avc_acc_direct" in line.evidence
    nmi = _by_claim(scorecard.score(Selection("quick", tmp_path)))["L3-5"]
    assert nmi.ours.startswith("0.410 ± ") and nmi.ours.endswith(" NMI (3 seeds)")
    assert [v for _, v in nmi.paper_numbers] == ["0.409 NMI", "0.204 NMI"]
    assert _by_claim(scorecard.score(Selection("quick", tmp_path)))["L3-6"].ours == (
        "no results yet"
    )


def test_changing_a_results_file_changes_the_scorecard(tmp_path):
    _l3_results(tmp_path)
    sel = Selection("quick", tmp_path)
    before = scorecard.score(sel)
    html, csv = scorecard.scorecard_html(before), scorecard.scorecard_csv(before, "quick")
    _l3_results(tmp_path, direct=(0.85, 0.86, 0.84))  # the same files, now the baseline wins
    after = scorecard.score(sel)
    assert _by_claim(after)["L3-2"].verdict == "not reproduced"
    assert scorecard.scorecard_html(after) != html
    rows = pd.read_csv(io.StringIO(scorecard.scorecard_csv(after, "quick"))).set_index("claim")
    assert rows.loc["L3-2", "verdict"] == "not reproduced"
    assert pd.read_csv(io.StringIO(csv)).set_index("claim").loc["L3-2", "verdict"] == "reproduced"


def test_a_results_file_lacking_a_metric_gives_no_verdict_and_says_why(tmp_path):
    _l3_results(tmp_path)
    _write(tmp_path, "l3-avc", {k: v for k, v in AVC_GOOD.items() if k != "esc50_acc"})
    line = _by_claim(scorecard.score(Selection("quick", tmp_path)))["L3-3"]
    assert line.verdict == "no results yet" and "no metric 'esc50_acc'" in line.evidence


def test_under_trained_lines_name_the_failed_gate_and_look_different(tmp_path):
    _l3_results(tmp_path, avc_acc=(0.52, 0.53, 0.52))
    line = _by_claim(scorecard.score(Selection("quick", tmp_path)))["L3-2"]
    assert line.verdict == "inconclusive" and "L3 AVC above 56%" in line.under_trained
    assert ("L3 AVC above 56%", False) in line.gates
    html = scorecard.scorecard_html([line])
    assert "inconclusive: under-trained" in html and "dashed" in html
    assert "failed: L3 AVC above 56%" in html


def test_badges_say_their_verdict_in_words_and_symbols_not_colour_alone():
    badges = {v: scorecard.badge_html(v) for v in scorecard.BADGES}
    for verdict, html in badges.items():
        assert f"{scorecard.BADGES[verdict].symbol} {verdict}</span>" in html
    assert len({b.symbol for b in scorecard.BADGES.values()}) == len(scorecard.BADGES)
    assert len({b.border for b in scorecard.BADGES.values()}) == len(scorecard.BADGES)
    with pytest.raises(ConfigError, match="unknown verdict"):
        scorecard.badge_html("maybe")


def test_html_links_lead_from_the_page_that_shows_them(tmp_path):
    _l3_results(tmp_path)
    scores = scorecard.score(Selection("quick", tmp_path))
    assert 'href="01_l3.html#results-' in scorecard.scorecard_html(scores)
    front = scorecard.scorecard_html(scores, link_prefix="chapters/")
    assert 'href="chapters/01_l3.html#results-' in front
    assert "<details" in front and "https://" not in front


def test_csv_has_one_row_per_claim_with_numbers_for_each_interval(tmp_path):
    _l3_results(tmp_path)
    rows = pd.read_csv(io.StringIO(scorecard.scorecard_csv(scorecard.score(
        Selection("quick", tmp_path)), "quick")))  # fmt: skip
    assert list(rows["claim"]) == list(claims())
    l3_2 = rows.set_index("claim").loc["L3-2"]
    assert l3_2["ours_ci_low"] < l3_2["ours_mean"] < l3_2["ours_ci_high"] and l3_2["seeds"] == 3
    assert set(rows["verdict"]) <= set(scorecard.BADGES)


def test_summary_counts_and_figure_text_follow_the_verdicts(tmp_path):
    _l3_results(tmp_path)
    scores = scorecard.score(Selection("quick", tmp_path))
    n = scorecard.counts(scores)
    assert sum(n.values()) == len(scores)
    assert f"Of the {len(scores)} claims, {n['reproduced']} are reproduced" in (
        scorecard.summary_sentence(scores)
    )
    alt = scorecard.figure_alt(scores)
    assert f"{l3.TITLE}: " in alt and "no results yet" in alt
    fig = scorecard.summary_figure(scores)
    assert len(fig.axes[0].get_yticklabels()) == len({s.paper_title for s in scores})


def test_cross_tables_gather_every_chapters_rows(tmp_path):
    _l3_results(tmp_path)
    _write(tmp_path, "world-calibration", {"esc50_mfcc_svm": (0.45,), "esc10_mfcc_svm": (0.7,),
                                           "dcase_mfcc_svm": (0.6,)}, paper="world")  # fmt: skip
    sel = Selection("quick", tmp_path)
    frame = cross_tables.cross_frame("audio-probes", sel)
    methods = set(frame["method"])
    assert "MFCC + SVM (no learning)" in methods and "L3-Net audio, conv4 (frozen)" in methods
    mfcc = frame[(frame["task"] == "ESC-50") & frame["method"].str.startswith("MFCC")].iloc[0]
    assert mfcc["ours"] == "45.0 % (1 seed, no CI)" and mfcc["paper"] == "39.6 %"
    html = cross_tables.cross_table_html("audio-probes", sel)
    assert "ESC-10" in html and 'href="01_l3.html"' in html
    assert "no merged chapter declares" in cross_tables.cross_table_html("sync", sel) or (
        not cross_tables.cross_frame("sync", sel).empty
    )
    with pytest.raises(ConfigError, match="unknown cross-paper table"):
        cross_tables.cross_rows("video-probes")


def test_a_chapter_declaring_an_unknown_cross_table_is_named(monkeypatch):
    monkeypatch.setattr(l3, "CROSS", {"audio-probe": []}, raising=False)
    with pytest.raises(
        ConfigError, match=r"chapters/l3.py: CROSS names unknown tables audio-probe"
    ):
        cross_tables.cross_rows("audio-probes")
