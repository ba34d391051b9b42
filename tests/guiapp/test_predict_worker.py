"""PredictionCache LRU and PredictWorker: urgent-first requests, prepare() in the thread, errors
as signals."""
import threading
from types import SimpleNamespace

import numpy as np

from guiapp.workers.predict_worker import PredictionCache, Predicted, PredictWorker


def item(name):
    z = np.zeros((2, 2), np.uint8)
    return Predicted(name, np.zeros((2, 2, 3), np.uint8), z, z, z.astype(np.float32))


def test_cache_is_lru():
    c = PredictionCache(capacity=2)
    c.put(item("a"))
    c.put(item("b"))
    assert c.get("a") is not None          # a is now most recent
    c.put(item("c"))
    assert "b" not in c and "a" in c and "c" in c and len(c) == 2


def test_worker_predicts_in_its_thread(qtbot):
    threads = set()

    class P:
        def predict(self, image):
            threads.add(threading.current_thread())
            return SimpleNamespace(mask=np.ones((2, 2), np.uint8),
                                   entropy=np.zeros((2, 2), np.float32))

    def prepare(it):
        it.views["done"] = True

    cache = PredictionCache()
    w = PredictWorker(P, lambda n: (np.zeros((2, 2, 3), np.uint8), None), cache, prepare)
    w.start()
    got = []
    w.ready.connect(got.append)
    w.request(["x", "y", "x"])
    qtbot.waitUntil(lambda: got == ["x", "y"], timeout=5000)
    assert cache.get("x").views == {"done": True}
    assert threading.main_thread() not in threads
    w.request(["x"])                        # cached: not predicted again
    qtbot.wait(100)
    assert got == ["x", "y"]
    assert w.stop()


def test_worker_reports_failures(qtbot):
    def load(name):
        raise OSError(f"cannot read {name}")

    w = PredictWorker(lambda: None, load, PredictionCache())
    w.start()
    with qtbot.waitSignal(w.failed) as sig:
        w.request(["bad.png"])
    assert sig.args[0] == "bad.png" and "cannot read bad.png" in sig.args[1]
    assert w.stop()
