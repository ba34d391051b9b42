from core.engine.phases import Phases, describe


def test_phases_add_up_per_name():
    ticks = iter([0.0, 1.0, 5.0, 7.5])
    phases = Phases(clock=lambda: next(ticks))
    with phases("decode"):
        pass
    with phases("decode"):
        pass
    assert phases.rounded() == {"decode": 3.5}


def test_describe_keeps_order_drops_the_total_and_the_instant_ones():
    got = describe({"data": 0.01, "model": 1.62, "decode": 2.66, "checkpoints": 0.05, "total": 9.0})
    assert got == "model 1.6 s, decode 2.7 s, checkpoints 0.1 s"
    assert describe(None) == "" and describe({"total": 3.0}) == ""
