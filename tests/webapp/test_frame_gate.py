"""The per-client frame gate: one frame in flight, the newest one waiting, stale ones dropped."""

from __future__ import annotations

import threading

from webapp.frame_gate import FrameGate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make() -> tuple[FrameGate, list[tuple[str, int]], Clock]:
    sent: list[tuple[str, int]] = []
    clock = Clock()
    gate = FrameGate(lambda sid, frame: sent.append((sid, frame["seq"])), stale_after_s=2.0,
                     clock=clock)
    return gate, sent, clock


def test_first_frame_goes_straight_out() -> None:
    gate, sent, _ = make()
    assert gate.offer("a", {"seq": 1}) is True
    assert sent == [("a", 1)]


def test_frames_waiting_behind_one_in_flight_coalesce_to_the_newest() -> None:
    gate, sent, _ = make()
    gate.offer("a", {"seq": 1})
    for seq in (2, 3, 4):
        assert gate.offer("a", {"seq": seq}) is False
    assert sent == [("a", 1)] and gate.coalesced == 2  # 2 and 3 never cost anything
    assert gate.take_coalesced() == 2 and gate.take_coalesced() == 0  # reported once
    gate.answered("a")
    assert sent == [("a", 1), ("a", 4)]
    gate.answered("a")  # nothing waiting: the gate opens
    assert gate.offer("a", {"seq": 5}) is True
    assert sent[-1] == ("a", 5)


def test_clients_do_not_hold_each_other_up() -> None:
    gate, sent, _ = make()
    gate.offer("a", {"seq": 1})
    assert gate.offer("b", {"seq": 1}) is True
    assert sent == [("a", 1), ("b", 1)]


def test_a_lost_answer_reopens_the_gate_after_the_timeout() -> None:
    gate, sent, clock = make()
    gate.offer("a", {"seq": 1})
    clock.now = 1.0
    assert gate.offer("a", {"seq": 2}) is False
    clock.now = 2.5
    assert gate.offer("a", {"seq": 3}) is True
    assert sent == [("a", 1), ("a", 3)]


def test_forget_drops_a_leaving_clients_state() -> None:
    gate, sent, _ = make()
    gate.offer("a", {"seq": 1})
    gate.offer("a", {"seq": 2})
    gate.forget("a")
    gate.answered("a")
    assert sent == [("a", 1)]
    assert gate.offer("a", {"seq": 3}) is True


def test_concurrent_offers_and_answers_never_lose_the_newest_frame() -> None:
    sent: list[int] = []
    gate = FrameGate(lambda sid, frame: sent.append(frame["seq"]))
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            gate.answered("a")

    t = threading.Thread(target=answer)
    t.start()
    for seq in range(1, 5001):
        gate.offer("a", {"seq": seq})
    stop.set()
    t.join()
    gate.answered("a")
    assert sent == sorted(sent) and len(set(sent)) == len(sent)
    assert sent[-1] == 5000
    assert len(sent) + gate.coalesced == 5000


def test_a_frame_older_than_one_already_offered_is_dropped() -> None:
    """Handlers run in threads, so seq 3 may be offered after seq 5; it must never go out."""
    gate, sent, _ = make()
    gate.offer("a", {"seq": 1})
    gate.offer("a", {"seq": 5})
    assert gate.offer("a", {"seq": 3}) is False
    gate.answered("a")
    assert sent == [("a", 1), ("a", 5)]
    gate.answered("a")
    assert gate.offer("a", {"seq": 4}) is False  # even with nothing in flight
    assert gate.offer("a", {"seq": 6}) is True
    assert sent[-1] == ("a", 6)


def test_the_next_frame_after_an_answer_is_dispatched_through_spawn() -> None:
    """The answer arrives on the message-queue listener: it must not run the dispatch itself."""
    sent: list[int] = []
    spawned: list[tuple] = []
    gate = FrameGate(lambda sid, frame: sent.append(frame["seq"]),
                     spawn=lambda fn, *args: spawned.append((fn, args)))
    gate.offer("a", {"seq": 1})  # the draw handler dispatches inline
    gate.offer("a", {"seq": 2})
    gate.answered("a")
    assert sent == [1] and len(spawned) == 1  # handed off, not run on the listener
    fn, args = spawned[0]
    fn(*args)
    assert sent == [1, 2]
