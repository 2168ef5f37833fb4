"""operations.pool: the one worker pool (batch and impact run on it)."""

from __future__ import annotations

from functools import partial

import pytest

from escalator.operations.pool import chunks, ordered_map


def _state(offset: int) -> int:
    return offset


def _broken_setup() -> int:
    raise RuntimeError("cannot build the engine")


def _add(offset: int, chunk: list[int], scale: int) -> list[int]:
    return [offset + scale * n for n in chunk]


def test_results_come_back_in_input_order_with_each_workers_state():
    handed_out: list[int] = []

    def args() -> tuple[int]:
        handed_out.append(1)
        return (10,)

    out = list(ordered_map(_add, chunks(range(50), 7), setup=partial(_state, 1000), workers=2, args=args))
    assert [n for chunk in out for n in chunk] == [1000 + 10 * n for n in range(50)]
    assert len(handed_out) == 8  # args() runs in this process, once per item handed out


def test_a_failing_setup_reaches_the_caller_instead_of_respawning_workers():
    with pytest.raises(RuntimeError, match="cannot build the engine"):
        list(ordered_map(_add, chunks(range(5), 2), setup=_broken_setup, workers=2, args=lambda: (1,)))


def test_chunks_are_lazy_and_bounded():
    assert list(chunks(iter(range(5)), 2)) == [[0, 1], [2, 3], [4]]
    assert list(chunks([], 3)) == []
    with pytest.raises(ValueError):
        list(ordered_map(_add, [[1]], setup=partial(_state, 0), workers=0))
