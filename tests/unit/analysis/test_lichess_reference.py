"""Lichess games with Lichess's own analysis: our numbers from its evaluations equal its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gamekeeper.analysis.analyzer import analyze_game
from gamekeeper.analysis.plugins import AccuracyPlugin, AcplPlugin, JudgmentsPlugin
from gamekeeper.analysis.positions import white_first, white_to_move_at
from gamekeeper.connectors.lichess.records import parse_game

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lichess"


def _analysed_records(*, with_summary: bool) -> list[tuple[str, dict[str, Any], str]]:
    records = []
    for path in sorted(FIXTURES.glob("*.ndjson")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            players = record.get("players", {})
            if "analysis" in record and (
                not with_summary
                or all("analysis" in players.get(side, {}) for side in ("white", "black"))
            ):
                records.append((f"{path.name}:{record['id']}", record, line))
    return records


#: Games with Lichess's evaluations and its per-side summary (real exports).
RECORDS = _analysed_records(with_summary=True)
#: Games with Lichess's evaluations and per-ply judgments (some constructed).
JUDGED = _analysed_records(with_summary=False)


def test_the_fixtures_hold_lichess_analysed_games() -> None:
    assert [name for name, _, _ in RECORDS] == ["reference-games.ndjson:q7ZvsdUF"]
    assert len(JUDGED) == 2


@pytest.mark.parametrize(("name", "record", "line"), RECORDS, ids=[r[0] for r in RECORDS])
async def test_acpl_and_judgment_counts_equal_lichess(
    name: str, record: dict[str, Any], line: str
) -> None:
    game = parse_game(record, line)
    analysis = await analyze_game(
        game, [JudgmentsPlugin(), AcplPlugin(), AccuracyPlugin()], cache=None, pool=None, nodes=1
    )
    assert analysis.skipped == {} and analysis.engine_evals == 0
    acpl = analysis.results["acpl"][1]
    judgments = analysis.results["judgments"][1]
    accuracy = analysis.results["accuracy"][1]
    assert isinstance(acpl, dict) and isinstance(judgments, list) and isinstance(accuracy, dict)
    starts_white = white_first(game)
    for side in ("white", "black"):
        lichess = record["players"][side]["analysis"]
        counts = {"inaccuracy": 0, "mistake": 0, "blunder": 0}
        for entry in judgments:
            assert isinstance(entry, dict)
            ply = entry["ply"]
            assert isinstance(ply, int)
            if entry["judgment"] and white_to_move_at(ply - 1, starts_white) == (side == "white"):
                counts[str(entry["judgment"])] += 1
        assert counts == {k: lichess[k] for k in counts}, side
        assert acpl[side] == lichess["acpl"], side
        if "accuracy" in lichess:
            value = accuracy[side]
            assert isinstance(value, float)
            assert round(value) == lichess["accuracy"], side


@pytest.mark.parametrize(("name", "record", "line"), JUDGED, ids=[r[0] for r in JUDGED])
async def test_judged_plies_are_the_ones_lichess_judged(
    name: str, record: dict[str, Any], line: str
) -> None:
    game = parse_game(record, line)
    analysis = await analyze_game(game, [JudgmentsPlugin()], cache=None, pool=None, nodes=1)
    judgments = analysis.results["judgments"][1]
    assert isinstance(judgments, list)
    ours = {e["ply"]: e["judgment"] for e in judgments if isinstance(e, dict) and e["judgment"]}
    theirs = {
        ply: entry["judgment"]["name"].lower()
        for ply, entry in enumerate(record["analysis"], start=1)
        if "judgment" in entry
    }
    assert ours == theirs
