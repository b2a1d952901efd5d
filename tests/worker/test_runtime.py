"""The worker runtime's bulk lanes: as many as BULK_LANES says, else one per usable core."""

from __future__ import annotations

import os

from shared.settings import Settings
from worker.runtime import bulk_lanes


def test_bulk_lanes_follow_the_setting_else_the_usable_cores() -> None:
    assert bulk_lanes(Settings(bulk_lanes=3)) == 3
    assert bulk_lanes(Settings(bulk_lanes=0)) == len(os.sched_getaffinity(0)) >= 1
