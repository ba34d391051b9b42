"""Pace: step time counts the wait for data, and time left counts the validations still to run."""
import pytest

from core.engine.pace import SMOOTHING, Pace


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_step_time_includes_the_wait_before_the_step():
    clock = FakeClock()
    pace = Pace(clock)
    pace.start()
    clock.t += 0.5  # loader
    clock.t += 1.5  # forward/backward
    assert pace.step_done(4) == pytest.approx(4 / 2.0)
    assert pace.step_s == pytest.approx(2.0)
    clock.t += 1.0
    assert pace.step_done(4) == pytest.approx(4.0)
    assert pace.step_s == pytest.approx(SMOOTHING * 2.0 + (1 - SMOOTHING) * 1.0)


def test_epoch_start_resets_the_mark_so_validation_is_not_a_step():
    clock = FakeClock()
    pace = Pace(clock)
    clock.t += 1.0
    pace.step_done(2)
    clock.t += 30.0  # validation between epochs
    pace.validation_done(30.0)
    pace.start()
    clock.t += 1.0
    assert pace.step_done(2) == pytest.approx(2.0)
    assert pace.step_s == pytest.approx(1.0)


def test_eta_adds_steps_and_validations_left():
    clock = FakeClock()
    pace = Pace(clock)
    assert pace.eta_s(10, 2) == 0.0  # nothing measured yet
    clock.t += 2.0
    pace.step_done(4)
    assert pace.eta_s(10, 2) == pytest.approx(20.0)  # no validation measured yet
    pace.validation_done(12.0)
    assert pace.eta_s(10, 2) == pytest.approx(10 * 2.0 + 2 * 12.0)


def test_steps_read_together_share_their_interval():
    t = iter([0.0, 4.0, 4.5])
    pace = Pace(clock=lambda: next(t))
    assert pace.steps_done(4, images=8) == pytest.approx(8 / 1.0)  # 4 s for 4 steps: 1 s each
    assert pace.step_s == pytest.approx(1.0)
    pace.steps_done(1, images=8)  # then one step of 0.5 s moves the average by a tenth
    assert pace.step_s == pytest.approx(0.9 * 1.0 + 0.1 * 0.5)
