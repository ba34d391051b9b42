"""Shared bits for the benchmark scripts: timing with repetitions and medians, machine line."""
from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

CAMVID = Path(__file__).resolve().parents[2] / "shared" / "data" / "camvid"


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return (f"{cpu}, {len(os.sched_getaffinity(0))} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, ISA {torch.backends.cpu.get_cpu_capability()}{gpu}")


def median_time(fn, reps: int = 5, warmup: int = 1) -> float:
    """Median wall seconds of `fn()` over `reps` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def matmul_ceiling_gflops(n: int = 2048, reps: int = 5) -> float:
    """Measured fp32 matrix-multiply rate: the machine's practical FLOP ceiling."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / median_time(lambda: a @ b, reps) / 1e9


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in cells[1:]])


def trainer_steps_per_s(cfg, steps: int, warmup: int) -> float:
    """Steps per second of `roadseg`'s Trainer on `cfg` (its run folder a temporary one), timed
    from the StepDone events after `warmup` steps; the run is stopped once they are seen."""
    import tempfile

    from core.engine.events import StepDone
    from core.engine.trainer import Trainer

    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg.replace(out=tmp))

        def on(ev):
            if isinstance(ev, StepDone):
                stamps.append(time.perf_counter())
                if len(stamps) >= warmup + steps:
                    trainer.cancel()

        trainer.add_listener(on)
        trainer.run()
    return steps / (stamps[warmup + steps - 1] - stamps[warmup - 1])
