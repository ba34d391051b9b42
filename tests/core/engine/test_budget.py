"""plan_epochs/replan: how many epochs fit a time budget, from the epochs timed so far."""
import pytest

from core.engine.budget import plan_epochs, replan


@pytest.mark.parametrize("budget_s,max_epochs,seconds,expected", [
    (100.0, 50, [], 50),                 # nothing timed yet: the cap
    (100.0, 50, [10.0], 10),             # 90 s left at 10 s: 1 + 9
    (100.0, 50, [20.0, 10.0], 9),        # the first epoch's one-off cost left out: 70 s left / 10
    (100.0, 50, [20.0, 10.0, 12.0], 8),  # 58 s left at 11 s per epoch: 3 + 5
    (1000.0, 8, [10.0], 8),              # a fast machine: the cap
    (5.0, 8, [10.0], 1),                 # over budget already: stop after the epochs done
    (30.0, 8, [10.0, 10.0, 10.0], 3),    # exactly used up
])
def test_hand_computed_plans(budget_s, max_epochs, seconds, expected):
    assert plan_epochs(budget_s, max_epochs, seconds) == expected


@pytest.mark.parametrize("planned,seconds,expected", [
    (50, [20.0, 10.0], 9),                      # still planning (2 of PLAN_EPOCHS): set afresh
    (9, [20.0, 10.0, 10.0, 10.0], 9),           # on pace: 50 s left at 10 s, 4 + 5
    (9, [10.0, 10.0, 10.0, 10.0, 10.0], 9),     # faster than planned (5 + 5 fit): not lengthened
    (9, [10.0, 10.0, 10.0, 20.0, 20.0, 20.0], 6),  # slowed to 20 s, 10 s left: stop after 6
    # 24 s left: at the mean of all later epochs (11 s) 2 more fit, at the last three's (14 s) 1
    (9, [10.0, 8.0, 8.0, 8.0, 14.0, 14.0, 14.0], 8),
])
def test_replan_sets_the_plan_then_only_shortens_it(planned, seconds, expected):
    assert replan(100.0, 50, planned, seconds) == expected
