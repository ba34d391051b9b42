import threading

import pytest

from core.engine.background import Background


def test_calls_run_in_order_on_one_other_thread():
    done, threads = [], set()
    bg = Background("work", pending=1)
    for i in range(4):
        bg.submit(lambda i=i: (done.append(i), threads.add(threading.current_thread().name)))
    bg.close()
    assert done == [0, 1, 2, 3]
    assert len(threads) == 1 and next(iter(threads)).startswith("work")


def test_at_most_pending_calls_wait():
    gate = threading.Event()
    bg = Background("work", pending=2)
    bg.submit(gate.wait)
    bg.submit(lambda: None)
    blocked = threading.Thread(target=bg.submit, args=(lambda: None,))
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()  # a third call waits for the first to finish
    gate.set()
    blocked.join(5)
    assert not blocked.is_alive()
    bg.close()


def test_a_failure_is_raised_to_the_run_and_the_later_calls_are_skipped():
    ran = []
    gate = threading.Event()
    bg = Background("work", pending=3)
    bg.submit(gate.wait)
    bg.submit(lambda: 1 / 0)
    bg.submit(lambda: ran.append("after the failure"))
    gate.set()
    with pytest.raises(ZeroDivisionError):
        bg.wait()
    bg.close()
    assert ran == []
