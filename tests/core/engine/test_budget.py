"""plan_epochs: how many epochs fit a time budget, from the epochs timed so far."""
import pytest

from core.engine.budget import plan_epochs


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
