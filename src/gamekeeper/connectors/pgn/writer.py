"""Writing a `Game` as PGN (for downloads and exports)."""

from __future__ import annotations

from gamekeeper.domain.games import Eval, Game, Platform

_VARIANT_TAGS = {
    "chess960": "Chess960",
    "crazyhouse": "Crazyhouse",
    "antichess": "Antichess",
    "atomic": "Atomic",
    "horde": "Horde",
    "kingOfTheHill": "King of the Hill",
    "racingKings": "Racing Kings",
    "threeCheck": "Three-check",
    "fromPosition": "From Position",
}


def _quote(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _clock(centiseconds: int) -> str:
    seconds, cs = divmod(centiseconds, 100)
    text = f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return text + (f".{cs // 10}" if cs else "")


def _eval(value: Eval) -> str:
    if value.mate is not None:
        return f"#{value.mate}"
    return f"{(value.cp or 0) / 100:.2f}"


def game_to_pgn(game: Game) -> str:
    """The game as PGN text: the original for games imported from PGN, else built from
    the stored fields (tags, SAN moves, `%clk` and `%eval` comments)."""
    if game.platform is Platform.PGN or game.raw.lstrip().startswith("["):
        return game.raw if game.raw.endswith("\n") else game.raw + "\n"
    start = game.start_time
    tags: list[tuple[str, object]] = [
        (
            "Event",
            f"{'Rated' if game.rated else 'Casual'} {game.speed or ''} game".replace("  ", " "),
        ),
        ("Site", game.url or "?"),
        ("Date", start.strftime("%Y.%m.%d") if start else "????.??.??"),
        ("Round", "-"),
        (
            "White",
            game.white.name or (f"AI level {game.white.ai_level}" if game.white.ai_level else "?"),
        ),
        (
            "Black",
            game.black.name or (f"AI level {game.black.ai_level}" if game.black.ai_level else "?"),
        ),
        ("Result", game.result.value),
    ]
    if start:
        tags += [("UTCDate", start.strftime("%Y.%m.%d")), ("UTCTime", start.strftime("%H:%M:%S"))]
    for side, player in (("White", game.white), ("Black", game.black)):
        if player.rating is not None:
            tags.append((f"{side}Elo", player.rating))
        if player.rating_diff is not None:
            tags.append((f"{side}RatingDiff", f"{player.rating_diff:+d}"))
        if player.title:
            tags.append((f"{side}Title", player.title))
    if game.variant != "standard":
        tags.append(("Variant", _VARIANT_TAGS.get(game.variant, game.variant)))
    if game.time_control is not None:
        tags.append(("TimeControl", str(game.time_control)))
    if game.opening is not None:
        if game.opening.eco:
            tags.append(("ECO", game.opening.eco))
        if game.opening.name:
            tags.append(("Opening", game.opening.name))
    tags.append(("Termination", game.termination.value))
    if game.initial_fen:
        tags += [("SetUp", "1"), ("FEN", game.initial_fen)]
    head = "\n".join(f"[{name} {_quote(value)}]" for name, value in tags)
    return f"{head}\n\n{movetext(game)}\n"


def movetext(game: Game) -> str:
    """`1. e4 { [%clk 0:03:00] } 1... e5 ...` ending with the result."""
    black_first = bool(game.initial_fen and game.initial_fen.split(" ")[1:2] == ["b"])
    first_number = 1
    if game.initial_fen:
        fields = game.initial_fen.split(" ")
        if len(fields) >= 6 and fields[5].isdigit():
            first_number = int(fields[5])
    parts: list[str] = []
    for ply, san in enumerate(game.moves or ()):
        index = ply + (1 if black_first else 0)
        number = first_number + index // 2
        white_to_move = index % 2 == 0
        comment = []
        if game.clocks and ply < len(game.clocks) and game.clocks[ply] is not None:
            comment.append(f"[%clk {_clock(game.clocks[ply] or 0)}]")
        if game.evals and ply < len(game.evals) and game.evals[ply] is not None:
            ev = game.evals[ply]
            assert ev is not None
            comment.append(f"[%eval {_eval(ev)}]")
        if white_to_move:
            parts.append(f"{number}. {san}")
        elif ply == 0 or comment or (parts and parts[-1].endswith("}")):
            parts.append(f"{number}... {san}")
        else:
            parts.append(san)
        if comment:
            parts.append("{ " + " ".join(comment) + " }")
    parts.append(game.result.value)
    return " ".join(parts)
