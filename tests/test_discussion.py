"""The discussion (lte.study.analysis.discussion): each reading printed only where the records support it."""

import pandas as pd

from lte.study.analysis import discussion


def q2_answer(params_finals: list[float], verdict_units: str = "yes") -> dict:
    """Question 2's answer with three runs per variant; the equal-parameters IRNN's finals as given."""
    finals = {"lstm": [0.82, 0.83, 0.84], "irnn-units": [0.59, 0.60, 0.61], "irnn-params": params_finals}
    sizes = {"lstm": (38571, 64), "irnn-units": (9707, 64), "irnn-params": (38753, 158)}
    runs = pd.DataFrame(
        [
            {"label_variant_id": v, "parameters": sizes[v][0], "cfg_hidden": sizes[v][1], "test_char_accuracy": a}
            for v, values in finals.items()
            for a in values
        ]
    )
    final = pd.DataFrame({"variant": list(finals), "final accuracy": [sum(v) / len(v) for v in finals.values()]})
    return {
        "runs": runs,
        "run_ms": {"lstm": 2.45, "irnn-units": 1.0, "irnn-params": 2.41},
        "judged": {
            "final": final,
            "verdicts": {
                "irnn-units": {"steps": "no", "run seconds": verdict_units},
                "irnn-params": {"steps": "no", "run seconds": "no"},
            },
        },
    }


TIGHT, SPREAD, LOW = [0.81, 0.82, 0.83], [0.73, 0.97, 0.75], [0.69, 0.70, 0.71]


def test_question2_reads_width_only_when_the_wide_irnn_is_equivalent_to_the_lstm():
    close = discussion.question2_paragraph(q2_answer(TIGHT))
    assert "inside ±δ: on this task the equal-units IRNN's deficit goes with its width" in close
    assert "ahead in seconds because its step is cheap" in close
    spread = discussion.question2_paragraph(q2_answer(SPREAD))
    assert "not inside ±δ: width may carry much" in spread and "its seeds end at 0.73 to 0.97" in spread
    far = discussion.question2_paragraph(q2_answer(LOW, verdict_units="no"))
    assert "goes with its width" not in far and "closing 43% of the gap in mean" in far
    assert "ahead in seconds" not in far


def test_question2_waits_for_its_records():
    assert discussion.question2_paragraph({"pending": True, "verdict": "pending"}) is None


def test_question1_names_what_acts_on_each_model_and_where_they_part():
    gains = pd.DataFrame(
        [
            ("copy", "invert vs no trick (baseline)", "lstm", "helps", False),
            ("copy", "invert vs no trick (baseline)", "irnn", "hurts", False),
            ("copy", "naive vs baseline", "lstm", "none", False),
            ("copy", "naive vs baseline", "irnn", "unclear", True),
            ("addition", "naive vs baseline", "lstm", "none", False),
            ("addition", "naive vs baseline", "irnn", "helps", False),
        ],
        columns=["task", "factor", "model", "act", "rising"],
    )
    table = pd.DataFrame(
        {
            "task": ["copy", "copy", "addition"],
            "factor": ["invert vs no trick (baseline)", "naive vs baseline", "naive vs baseline"],
            "agreement": ["differs", "unclear", "differs"],
        }
    )
    text = discussion.question1_paragraph(
        {"gains": gains, "table": table, "tasks": {"addition": "untestable", "copy": "no"}}
    )
    assert "On copy, verdict **no**: the LSTM is helped by inverting under baseline" in text
    assert "; the IRNN is hurt by inverting under baseline; they part on inverting under baseline" in text
    assert "(gains resting on a cell still rising: 1 of 4)" in text
    assert "On addition, verdict **untestable**: no factor is shown to help or hurt the LSTM" in text
    assert "nothing acting on the LSTM" in text
    assert "at the ceiling" not in text
    ceiling = [{"task": "copy", "model": "lstm", "control": "baseline", "accuracy": 1.0, "acts": []}]
    with_ceiling = discussion.question1_paragraph(
        {"gains": gains, "table": table, "tasks": {"copy": "no"}},
        {("copy", "lstm"): 1.0, ("copy", "irnn"): 0.8},
        ceiling,
    )
    assert "the baselines end at 1.00 (LSTM) and 0.80 (IRNN); " in with_ceiling
    assert "the LSTM's baseline control is at the ceiling" in with_ceiling


def test_factor_words():
    assert discussion.factor_words("naive vs baseline") == "the naive curriculum"
    assert discussion.factor_words("double vs no trick (mix)") == "doubling under mix"
    assert discussion.factor_words("both vs no trick (baseline)") == "both tricks under baseline"


def test_mechanism_readings_need_their_premises():
    gains = pd.DataFrame(
        [
            ("addition", "mix vs baseline", "lstm", "helps"),
            ("addition", "mix vs baseline", "irnn", "hurts"),
            ("copy", "naive vs baseline", "lstm", "none"),
            ("copy", "naive vs baseline", "irnn", "helps"),
        ],
        columns=["task", "factor", "model", "act"],
    )
    answers = {1: {"gains": gains}, 2: q2_answer(TIGHT)}
    baselines = {("addition", "lstm"): 0.8, ("addition", "irnn"): 0.6, ("copy", "lstm"): 1.0, ("copy", "irnn"): 0.8}
    ceiling = [{"task": "copy", "model": "lstm", "control": "baseline", "accuracy": 1.0, "acts": []}]
    text = discussion.mechanism_paragraph(answers, baselines, ceiling)
    assert "below the LSTM's on addition and copy, with 0.25x its parameters" in text
    assert "width, not the lack of gates" in text
    assert "The curricula that help the LSTM on addition, the mix curriculum, give" in text
    assert "On copy the LSTM has mastered the task" in text and "helped by the naive curriculum" in text
    # the wide IRNN far from the LSTM: no width reading, and no plateau-based curriculum reading needs it
    open_ = discussion.mechanism_paragraph({1: {"gains": gains}, 2: q2_answer(SPREAD)}, baselines, [])
    assert "width, not the lack of gates" not in open_ and "whether width or the lack of gates" in open_
    # no ceiling: no turn of roles; models level: nothing to explain
    assert "has mastered" not in discussion.mechanism_paragraph(answers, baselines, [])
    level = {k: 0.8 for k in baselines}
    assert discussion.mechanism_paragraph(answers, level, []) is None


def test_the_adding_paragraph_says_what_each_model_learned(monkeypatch, tmp_path):
    def outcome(*_):
        row = lambda mean, learned: {  # noqa: E731
            "mean": mean,
            "baseline_mse": 0.18,
            "below_half_baseline": learned,
            "steps": [150000],
        }
        return {"T=150 irnn": row(0.003, True), "T=150 lstm": row(0.187, False), "T=150 rnn": row(0.18, False)}

    monkeypatch.setattr("lte.study.analysis.adding.adding_outcome", outcome)
    text = discussion.adding_paragraph("default", tmp_path)
    assert "(150,000 steps each)" in text and "the IRNN learned it" in text
    assert "cannot hold a state" in text and "at this budget and its selected rate it did not" in text


def test_the_quick_profile_has_no_reading():
    (only,) = discussion.discussion({}, "quick")
    assert "smoke test" in only
