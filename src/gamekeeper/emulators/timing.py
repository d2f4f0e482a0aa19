"""The clocks of generated games: a time control, and the time left after each ply."""

from __future__ import annotations

import itertools
import random


def clocks_for(
    rng: random.Random,
    initial_s: int,
    increment_s: int,
    plies: int,
    status: str,
) -> tuple[tuple[int, ...], int]:
    """Remaining centiseconds after each ply (the first move of each side is free), and
    the centiseconds the game took."""
    start = initial_s * 100
    increment = increment_s * 100
    budget = max(50, start // 40)
    draw = rng.random
    clocks = [0] * plies
    elapsed = 0
    for side in (0, 1):
        moves = len(range(side, plies, 2))
        if not moves:
            continue
        # Built with comprehensions and accumulate: this runs for every ply of 100k games.
        spent = [0, *[int(draw() * budget) + 20 for _ in range(moves - 1)]]
        elapsed += sum(spent)
        clocks[side::2] = [
            max(0, start + increment * move - used)
            for move, used in enumerate(itertools.accumulate(spent))
        ]
    if status == "outoftime" and clocks:
        # The flagged side is the one to move after the last ply: show it low.
        loser = plies % 2
        for index in range(len(clocks) - 1, -1, -1):
            if index % 2 == loser:
                clocks[index] = min(clocks[index], rng.randint(0, 300))
                break
    return tuple(clocks), elapsed
