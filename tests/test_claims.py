"""Claims get computed verdicts from results files; paper numbers are registered with citations."""

import re

import pytest

from avlib.claims import (
    Claim,
    ClaimData,
    Gate,
    Row,
    all_of,
    at_least,
    at_most,
    claims,
    close_to,
    get_claim,
    greater,
    references,
    results_table,
    scorecard,
    to_markdown,
)
from avlib.errors import ConfigError
from avlib.results import Selection, load_seeds, save_result

ALL_CLAIM_IDS = (
    [f"L3-{i}" for i in range(1, 7)]
    + [f"AVTS-{i}" for i in range(1, 6)]
    + [f"PM-{i}" for i in range(1, 5)]
    + [f"SN-{i}" for i in range(1, 7)]
    + [f"AT-{i}" for i in range(1, 6)]
)


def write(tmp_path, experiment, values, flags=None, paper="toy"):
    """Synthetic results: one file per seed with metrics {'acc': value}."""
    for seed, value in enumerate(values):
        save_result(
            profile="smoke",
            paper=paper,
            experiment=experiment,
            seed=seed,
            metrics={"acc": value},
            results_dir=tmp_path,
            extra={"flags": flags or []},
        )


def a_beats_b(margin=0.05):
    return Claim(
        "T-1",
        "toy",
        "a beats b",
        "arandjelovic2017look",
        reads=("toy/a", "toy/b"),
        compare=lambda r, m: greater(r["toy/a"].metric("acc"), r["toy/b"].metric("acc"), m),
        margin=margin,
    )


def test_claim_is_reproduced_when_the_whole_interval_clears_the_margin(tmp_path):
    write(tmp_path, "a", [0.80, 0.82, 0.81])
    write(tmp_path, "b", [0.60, 0.63, 0.61])
    result = a_beats_b().evaluate(Selection("smoke", tmp_path))
    assert result.verdict == "reproduced"
    assert result.comparison.ci_low > 0.05 and result.seeds == {"toy/a": 3, "toy/b": 3}
    assert "toy/a:acc - toy/b:acc = 0.197" in result.reason
    with pytest.raises(ConfigError, match="too narrow"):  # 3 seeds: a bootstrap would mislead
        a_beats_b().evaluate(Selection("smoke", tmp_path, method="bootstrap"))


def test_claim_is_not_reproduced_when_the_interval_is_below_the_margin(tmp_path):
    write(tmp_path, "a", [0.60, 0.61, 0.62])
    write(tmp_path, "b", [0.80, 0.82, 0.81])
    assert a_beats_b().evaluate(Selection("smoke", tmp_path)).verdict == "not reproduced"


def test_claim_is_inconclusive_when_the_interval_straddles_the_margin(tmp_path):
    write(tmp_path, "a", [0.70, 0.85, 0.62])
    write(tmp_path, "b", [0.69, 0.71, 0.70])
    assert a_beats_b().evaluate(Selection("smoke", tmp_path)).verdict == "inconclusive"


def test_changing_a_results_file_changes_the_verdict(tmp_path):
    write(tmp_path, "a", [0.80, 0.82, 0.81])
    write(tmp_path, "b", [0.60, 0.63, 0.61])
    assert a_beats_b().evaluate(Selection("smoke", tmp_path)).verdict == "reproduced"
    write(tmp_path, "a", [0.50, 0.52, 0.51])  # the same files, new numbers
    assert a_beats_b().evaluate(Selection("smoke", tmp_path)).verdict == "not reproduced"


def test_missing_results_and_untested_claims_say_no_results_yet(tmp_path):
    write(tmp_path, "a", [0.8, 0.9])
    result = a_beats_b().evaluate(Selection("smoke", tmp_path))
    assert result.verdict == "no results yet" and "toy/b" in result.reason
    untested = Claim("TOY-9", "toy", "a claim whose chapter is not written", "cite")
    untested = untested.evaluate(Selection("smoke", tmp_path))
    assert untested.verdict == "no results yet" and "no test attached" in untested.reason
    assert untested.comparison is None


def test_flagged_runs_make_a_claim_inconclusive_whatever_the_numbers(tmp_path):
    write(tmp_path, "a", [0.80, 0.82, 0.81], flags=["stuck_at_chance"])
    write(tmp_path, "b", [0.60, 0.63, 0.61])
    result = a_beats_b().evaluate(Selection("smoke", tmp_path))
    assert result.verdict == "inconclusive" and result.label.startswith("inconclusive (under-")
    assert "toy/a seed 0: stuck_at_chance" in result.reason


def test_one_seed_is_inconclusive(tmp_path):
    write(tmp_path, "a", [0.9])
    write(tmp_path, "b", [0.5])
    assert a_beats_b().evaluate(Selection("smoke", tmp_path)).verdict == "inconclusive"


def test_comparison_kinds_and_their_combination(tmp_path):
    write(tmp_path, "a", [0.80, 0.81, 0.82])
    write(tmp_path, "b", [0.80, 0.82, 0.81])
    loaded = {f"toy/{e}": load_seeds("smoke", "toy", e, tmp_path) for e in ("a", "b")}
    data = ClaimData(loaded, confidence=0.95, method="t")
    a, b = data["toy/a"].metric("acc"), data["toy/b"].metric("acc")
    assert close_to(a, b, margin=0.05).verdict == "reproduced"  # paired: same seeds
    assert at_least(a, b, margin=0.03).verdict == "reproduced"  # paired CI [-0.025, 0.025]
    assert at_least(a, b, margin=0.01).verdict == "inconclusive"
    assert greater(a, 0.5, margin=0.2).verdict == "reproduced"  # far above chance
    assert greater(a, b).verdict == "inconclusive"
    assert close_to(a, 0.5, margin=0.05).verdict == "not reproduced"
    assert all_of(greater(a, 0.5), greater(a, b)).verdict == "inconclusive"
    assert all_of(greater(a, 0.5), close_to(a, 0.5, 0.05)).verdict == "not reproduced"
    assert all_of(greater(a, 0.5), at_least(a, b, 0.03)).verdict == "reproduced"


def test_every_claim_of_papers_md_is_registered_with_a_known_citation(root):
    bib = set(re.findall(r"@\w+\{([^,]+),", (root / "book" / "references.bib").read_text()))
    assert list(claims()) == ALL_CLAIM_IDS
    assert all(c.statement and c.cite in bib for c in claims().values())
    assert all(r.cite in bib for r in references().values())
    with pytest.raises(ConfigError, match="unknown claim 'L3-9'"):
        get_claim("L3-9")


def test_reference_numbers_are_the_papers_own():
    REFERENCES = references()
    assert REFERENCES["l3/esc50/l3"].value == 79.3 and REFERENCES["l3/esc50/l3"].units == "%"
    assert REFERENCES["soundnet/loss-l2"].format() == "47.8 %"
    assert REFERENCES["l3/nmi/vision"].format() == "0.409 NMI"
    assert REFERENCES["perfect_match/sync-acc-15"].value == 98.1
    assert REFERENCES["avts/ucf101-gain-over-scratch"].format() == "19.9 points"
    not_found = [r for r in REFERENCES.values() if r.value is None]
    assert REFERENCES["l3/avc-chance"].value == 50.0
    assert {r.paper for r in not_found} == {"avts", "perfect_match", "attention"}
    assert all(r.format() == "not found" and r.note for r in not_found)


def test_chapter_table_shows_paper_ours_profile_and_verdict(tmp_path):
    write(tmp_path, "a", [0.80, 0.82, 0.81])
    write(tmp_path, "b", [0.60, 0.63, 0.61])
    rows = [
        Row("ESC-50 accuracy", reference="l3/esc50/l3", result="toy/a", key="acc", claim="T-1"),
        Row("ESC-50, random init", reference="l3/esc50/random", result="toy/never", key="acc"),
    ]
    table = results_table(rows, Selection("smoke", tmp_path), {"T-1": a_beats_b()})
    assert list(table.columns) == ["metric", "paper", "ours (mean ± CI, seeds)", "verdict"]
    assert table.iloc[0].tolist() == [
        "ESC-50 accuracy",
        "79.3 %",
        "81.0 ± 2.5 (3 seeds)",
        "T-1: reproduced",
    ]
    assert table.iloc[1]["ours (mean ± CI, seeds)"] == "no results yet"
    assert to_markdown(table).startswith("| metric")


def test_scorecard_lists_every_claim(tmp_path):
    card = scorecard(Selection("smoke", tmp_path))
    assert card["claim"].tolist() == ALL_CLAIM_IDS
    assert set(card["verdict"]) == {"no results yet"}


def gated(margin=0.05):
    """'a beats b', resting on a gate: a's pretext accuracy must clear 0.55."""
    gate = Gate("a learnt", lambda d: greater(d["toy/a"].metric("pretext"), 0.55))
    return Claim(
        "T-2", "toy", "a beats b", "arandjelovic2017look", ("toy/a", "toy/b"),
        lambda r, m: greater(r["toy/a"].metric("acc"), r["toy/b"].metric("acc"), m),
        margin, "a quarter of the paper's gap", (gate,),
    )  # fmt: skip


def write_gated(tmp_path, acc, pretext):
    for seed, (a, p) in enumerate(zip(acc, pretext, strict=True)):
        save_result(profile="smoke", paper="toy", experiment="a", seed=seed,
                    metrics={"acc": a, "pretext": p}, results_dir=tmp_path)  # fmt: skip
    write(tmp_path, "b", [0.80, 0.82, 0.81])


@pytest.mark.parametrize(
    "acc",
    [[0.60, 0.61, 0.62], [0.90, 0.91, 0.92], [0.70, 0.95, 0.60]],
    ids=["would-fail", "would-hold", "would-straddle"],
)
def test_no_verdict_rests_on_a_run_that_failed_its_gate(tmp_path, acc):
    write_gated(tmp_path, acc, pretext=[0.50, 0.52, 0.49])  # the pretext task never learnt
    result = gated().evaluate(Selection("smoke", tmp_path))
    assert result.verdict == "inconclusive"
    assert result.label == "inconclusive (under-trained: a learnt)"
    assert [g.holds for g in result.gates] == [False] and "a learnt" in result.reason


def test_a_passed_gate_lets_the_comparison_decide(tmp_path):
    write_gated(tmp_path, [0.60, 0.61, 0.62], pretext=[0.70, 0.72, 0.71])
    result = gated().evaluate(Selection("smoke", tmp_path))
    assert result.verdict == "not reproduced" and result.label == "not reproduced"
    assert [g.holds for g in result.gates] == [True]


def test_gates_and_margins_show_on_the_scorecard(tmp_path):
    write_gated(tmp_path, [0.90, 0.91, 0.92], pretext=[0.50, 0.52, 0.49])
    card = scorecard(Selection("smoke", tmp_path), {"T-2": gated()})
    row = card.iloc[0]
    assert row["verdict"] == "inconclusive (under-trained: a learnt)"
    assert row["gates"] == "a learnt: FAILED" and row["margin"] == "a quarter of the paper's gap"


def test_at_most_holds_when_the_whole_interval_is_below(tmp_path):
    write(tmp_path, "a", [0.01, 0.02, 0.015])
    data = ClaimData({"toy/a": load_seeds("smoke", "toy", "a", tmp_path)}, 0.95, "t")
    gain = data["toy/a"].metric("acc")
    assert at_most(gain, 0.05).verdict == "reproduced"
    assert at_most(gain, 0.0).verdict == "not reproduced"


def test_every_written_claim_has_a_margin_note_and_a_gate():
    written = [c for c in claims().values() if c.compare is not None]
    assert written, "at least the L3 chapter's claims are tested"
    for c in written:
        assert c.margin > 0 and c.margin_note and c.gates, c.id
