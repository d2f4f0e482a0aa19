"""Defaults that depend on the machine: the processes working beside a job."""

from __future__ import annotations

import os

from gamekeeper.settings import Settings, spare_cores


def test_the_defaults_leave_a_core_to_the_job() -> None:
    assert spare_cores() == len(os.sched_getaffinity(0)) - 1
    settings = Settings(_env_file=None)
    assert settings.parse_processes == spare_cores()
    assert settings.engines == max(1, spare_cores())


def test_a_setting_wins_over_the_default() -> None:
    settings = Settings(_env_file=None, parse_workers=0, engine_workers=3)
    assert (settings.parse_processes, settings.engines) == (0, 3)
