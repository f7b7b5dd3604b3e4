"""The answer at the top of the report: the codec to deploy for each common goal, per corpus and
over all, with the figures that decide it, what is tied within this machine's noise, and how much
measurement stands behind it. Each answer is exactly what ``codec-bench recommend`` says for the
same objective and constraints, so the report and the command never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.outputs import roundtrip
from bench.outputs.reading_report import reading_verdict
from bench.outputs.recommend import (
    Constraints,
    Recommendation,
    client_case,
    default_corpora,
    recommend,
    saving,
)
from bench.outputs.render import Block, Code, Table
from bench.results import Layer, Results
from bench.results.stats import paired_change

MIN_SAVING = 0.10


@dataclass(frozen=True)
class Goal:
    name: str
    objective: str
    limits: Constraints
    command: str
    """The recommend flags that ask the same question."""


ANSWER = Goal("the answer above (balanced)", "balanced", Constraints(), "")
"""The one answer: ``recommend`` with no flag."""
GOALS = (
    Goal("smallest history", "storage", Constraints(), "--objective storage"),
    Goal("fastest round trip", "latency", Constraints(), "--objective latency"),
    Goal(
        f"least CPU, saving {MIN_SAVING:.0%} or more",
        "cpu",
        Constraints(min_saved=MIN_SAVING),
        f"--objective cpu --min-saved {MIN_SAVING * 100:g}",
    ),
    Goal("must encrypt", "balanced", Constraints(must_encrypt=True), "--must-encrypt"),
)


def answer(results: Results, goal: Goal, corpus: str | None = None) -> Recommendation | None:
    """What recommend says for ``goal`` on one corpus or (``None``) over all; ``None`` when it
    cannot say (for example no client layer for the round trip)."""
    corpora = {corpus: 1.0} if corpus else default_corpora(results)
    try:
        rec = recommend(results, corpora=corpora, objective=goal.objective, limits=goal.limits)
    except ValueError:
        return None
    return rec if rec.winner else None


def _cell(rec: Recommendation | None) -> str:
    if rec is None or rec.winner is None:
        return "not measured"
    tied = f" (tied: {', '.join(rec.tied)})" if rec.tied else ""
    return f"{rec.winner.codec}{tied}"


def round_trip_change(results: Results, codec: str, corpus: str) -> str:
    """The winner's round trip against the baseline in the client layer (the SDK's default
    route), tested over pairs of workflows measured side by side, with its interval; "tied"
    when the interval holds no change, and no figure at all when it could not be tested."""
    case = client_case(results, codec, corpus)
    base = results.baseline(Layer.CLIENT, corpus)
    if case is None or base is None:
        return "not measured (not in the client layer)"
    if case.codec == base.codec:
        return "-"
    measured = roundtrip.pairs(base, case)
    return roundtrip.change_text(paired_change(*measured), len(measured[0]))


def the_answer(results: Results) -> Recommendation | None:
    """What ``codec-bench recommend results.json`` says with no flag: the balanced objective
    (bytes saved per CPU) over every corpus by its default weight."""
    try:
        return recommend(results)
    except ValueError:
        return None


def _weights(rec: Recommendation) -> str:
    return ", ".join(f"{name} {weight:g}" for name, weight in rec.corpora.items())


def answer_text(results: Results) -> str:
    """The answer in a few plain lines, for the end of a run on a terminal."""
    rec = the_answer(results)
    if rec is None or rec.winner is None:
        why = rec.reason if rec else "nothing was measured in the codec layer"
        return f"no codec to deploy: {why}"
    win = rec.winner
    lines = [
        f"deploy {win.deployed}: {saving(win.saved)} of the bytes stored for "
        f"{win.cpu_us_per_kib:,.2f} µs of CPU per KiB (corpora weighted {_weights(rec)})"
    ]
    if rec.tied:
        lines.append(f"  tied within this run's noise: {', '.join(rec.tied)}")
    if len(rec.ranked) > 1:
        second = rec.ranked[1]
        lines.append(
            f"  runner-up {second.codec}: {saving(second.saved)} for "
            f"{second.cpu_us_per_kib:,.2f} µs of CPU per KiB"
        )
    return "\n".join(lines)


def _headline(results: Results) -> list[Block]:
    """The one answer the report opens with, and what stands beside it."""
    rec = the_answer(results)
    if rec is None or rec.winner is None:
        return [f"**No codec to deploy.** {rec.reason if rec else 'Nothing was measured.'}"]
    win = rec.winner
    text = (
        f"**Deploy `{win.deployed}`.** Of the codecs measured it saves the most bytes for the "
        f"CPU it spends: it {saving(win.saved)} of the bytes stored for "
        f"{win.cpu_us_per_kib:,.2f} µs of CPU per KiB encoded and decoded, over the corpora "
        f"weighted {_weights(rec)} (payloads recorded from real workflows count twice generated "
        "ones, and your own corpora twice again)."
    )
    if rec.tied:
        text += f" Tied within this run's noise: {', '.join(rec.tied)} ({rec.tie_break} decided)."
    elif len(rec.ranked) > 1:
        second = rec.ranked[1]
        text += (
            f" Runner-up: `{second.codec}`, {saving(second.saved)} for "
            f"{second.cpu_us_per_kib:,.2f} µs/KiB."
        )
    client = [c for c in rec.corpora if results.cases_of(Layer.CLIENT, c)]
    trips = [f"{c}: {round_trip_change(results, win.codec, c)}" for c in client]
    if trips:
        text += f" Round trip against no codec, {'; '.join(trips)}."
    return [text]


def _details(results: Results, goal: Goal, rec: Recommendation) -> list[str]:
    winner = rec.winner
    assert winner is not None
    client = [c for c in rec.corpora if results.cases_of(Layer.CLIENT, c)]
    trip = "; ".join(f"{c}: {round_trip_change(results, winner.codec, c)}" for c in client)
    return [
        goal.name,
        _cell(rec),
        f"{winner.saved:.1%}",
        f"{winner.cpu_us_per_kib:,.2f}",
        trip or "not measured",
    ]


def verdict_blocks(results: Results) -> list[Block]:
    """The verdict: per goal over all corpora with the deciding figures, then per corpus."""
    corpora = results.corpus_names
    overall = [(goal, answer(results, goal)) for goal in GOALS]
    rows = [
        _details(results, g, rec) if rec else [g.name, "not measured", *["-"] * 3]
        for g, rec in overall
    ]
    per_corpus = [
        [goal.name, *(_cell(answer(results, goal, c)) for c in corpora)] for goal in GOALS
    ]
    rounds = f"{results.rounds_completed} rounds" + (
        " (interrupted)" if results.interrupted else ""
    )
    client = results.layers.get(Layer.CLIENT, {})
    client_rounds = (
        f"{client.get('rounds')} client rounds"
        if client.get("status") == "complete"
        else "no client layer"
    )
    reading = reading_verdict(results)
    commands = [
        f"codec-bench recommend results.json{' ' if g.command else ''}{g.command}"
        for g in (ANSWER, *GOALS)
    ]
    width = max(map(len, commands)) + 2
    return [
        *_headline(results),
        "**By goal**, over the same corpora. Tied: within this run's noise floor (1.96 standard "
        "errors of a difference of two medians, from every codec's round-to-round spread); the "
        "first named wins the tie-break `recommend` states. Sizes and CPU from the codec layer; "
        "round trip from the client layer against no codec over workflows paired side by side "
        "(Wilcoxon signed-rank, Hodges-Lehmann estimate with its 95 % interval), where there "
        f"are pairs enough to test it. Behind it: one run, {rounds}, {client_rounds}.",
        Table(["goal", "codec", "bytes saved", "CPU µs/KiB", "round trip vs none"], rows),
        "Ask `recommend` the same questions, or your own (`--help`):",
        Code(
            "\n".join(
                f"{command:<{width}}# {goal.name}"
                for command, goal in zip(commands, (ANSWER, *GOALS), strict=True)
            ),
            "sh",
        ),
        "Per corpus:",
        Table(["goal", *corpora], per_corpus),
        *([reading] if reading else []),
    ]
