"""`ground.held`: what is held, when it counts as lost, and its bounds."""

import logging

import pytest

from ground import held as held_module
from ground.held import Held, History

ON = History("a" * 40, 1000)


def call(n: int) -> tuple[list[str], list[bytes]]:
    return (["s"], [b"x"] * n)


def armed(keep_s: float, max_args: int) -> Held:
    """A Held whose writer has seen a replica (`armed`): it holds."""
    held = Held(keep_s, max_args)
    held.armed = True
    return held


def test_a_new_history_or_a_shorter_one_may_lack_the_writes() -> None:
    assert not ON.lost(History("a" * 40, 1000))
    assert not ON.lost(History("a" * 40, 5000))  # the same history, further on
    assert ON.lost(History("a" * 40, 999))  # its tail was lost (a restart from an old AOF)
    assert ON.lost(History("b" * 40, 99999))  # a promotion starts a new history


def test_held_calls_are_taken_for_a_resend_until_confirmed() -> None:
    held = armed(keep_s=30, max_args=100)
    held.add([call(2), call(3)], ON)
    assert len(held) == 2
    assert not held.lost(ON)
    assert held.lost(History("b" * 40, 0))
    assert held.take() == [call(2), call(3)]
    assert len(held) == 2  # still held: the resend is not confirmed yet
    assert held.resent == 2
    held.confirmed()
    assert not held
    assert not held.lost(History("b" * 40, 0))


def test_the_offset_kept_is_the_furthest_seen() -> None:
    held = armed(keep_s=30, max_args=100)
    held.add([call(1)], History("a" * 40, 2000))
    held.add([call(1)], History("a" * 40, 1500))  # an older INFO answer
    assert held.on == History("a" * 40, 2000)


def test_holding_off_holds_nothing() -> None:
    held = armed(keep_s=0, max_args=100)
    held.add([call(1)], ON)
    assert not held


def test_nothing_is_held_before_a_replica_was_seen() -> None:
    held = Held(keep_s=30, max_args=100)  # a lone Redis: no other node to split from
    held.add([call(1)], ON)
    assert not held


def test_too_many_or_too_old_are_forgotten_with_one_warning(monkeypatch, caplog) -> None:
    clock = [100.0]
    monkeypatch.setattr(held_module.time, "monotonic", lambda: clock[0])
    held = armed(keep_s=30, max_args=10)
    with caplog.at_level(logging.WARNING):
        held.add([call(6)], ON)
        held.add([call(6)], ON)  # 12 args: the oldest goes
        assert len(held) == 1
        clock[0] += 31
        held.add([call(1)], ON)  # the 6 are 31 s old now
    assert held.take() == [call(1)]
    assert held.forgotten == 2
    assert len([r for r in caplog.records if "now forgotten" in r.message]) == 1


@pytest.mark.parametrize("info", [{}, {"master_replid": "r", "master_repl_offset": 7}])
def test_history_of_info(info) -> None:
    history = History.of(info)
    assert history == (info.get("master_replid", ""), info.get("master_repl_offset", 0))
