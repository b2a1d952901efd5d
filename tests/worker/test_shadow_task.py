"""The shadow review task trusts nothing on the queue: bad arguments answer an error."""

from __future__ import annotations

from typing import Any

import pytest

from worker.tasks import shadow_review


@pytest.mark.parametrize(("version", "last"), [("2", 10), (2, "10"), (True, 10), (2, None)])
def test_bad_arguments_answer_an_error(version: Any, last: Any) -> None:
    assert shadow_review.run(version, last) == {
        "error": "the review needs an integer version and count"}
