"""The memory plan: bytes the in-memory path would take against what the machine has."""
import pytest

from core.data import memory_plan
from core.data.memory_plan import HOST_SHARE, host_available_bytes, plan_data
from core.data.source import open_dataset
from core.errors import ConfigError

# synth_data: 12 train and 4 val images of 64x96; at 32x48 the train split decodes to
# 12 * 4 * 32 * 48 = 73,728 bytes and the val cache at full size to 4 * 4 * 64 * 96 = 98,304
TRAIN, VAL = 73_728, 98_304


def plan(synth_data, requested="auto", **kw):
    return plan_data(requested, open_dataset(synth_data), "train", "val", (32, 48), "cpu", **kw)


def test_bytes_are_counted_exactly(synth_data):
    p = plan(synth_data, host_available=10**9, processes=1)
    assert (p.train_images, p.train_bytes, p.val_images, p.val_bytes) == (12, TRAIN, 4, VAL)
    assert (p.path, p.storage, p.val_cache) == ("memory", "cpu", True)
    assert p.to_dict()["reason"] == p.reason and "fits" in p.describe()


def test_auto_streams_what_does_not_fit_in_half_the_available_memory(synth_data):
    just = int((TRAIN + VAL) / HOST_SHARE)
    assert plan(synth_data, host_available=just, processes=1).path == "memory"
    both = plan(synth_data, host_available=just, processes=1)
    assert both.val_cache  # train and val cache together fit exactly
    tight = plan(synth_data, host_available=int(TRAIN / HOST_SHARE), processes=1)
    assert (tight.path, tight.val_cache) == ("memory", False)  # the val split streams instead
    small = plan(synth_data, host_available=int(TRAIN / HOST_SHARE) - 2, processes=1)
    assert (small.path, small.storage) == ("stream", "stream")
    assert small.val_cache is False and "does not fit" in small.describe()


def test_processes_on_a_machine_share_one_copy(synth_data):
    room = int(TRAIN / HOST_SHARE)
    one, four = (plan(synth_data, host_available=room, processes=k) for k in (1, 4))
    assert one.path == four.path == "memory" and one.train_bytes == four.train_bytes
    assert "shared by 4 processes" in four.reason and "shared" not in one.reason


def test_forced_memory_that_cannot_fit_is_one_line_before_decoding(synth_data, monkeypatch):
    from core.data import decoded

    monkeypatch.setattr(decoded, "decode_into", lambda *a: pytest.fail("decoded"))
    with pytest.raises(ConfigError) as e:
        plan(synth_data, "memory", host_available=1000, processes=1)
    assert "\n" not in str(e.value) and "--data-path stream" in str(e.value)
    assert "0.00 GB available" in str(e.value)


def test_forced_stream_streams_whatever_fits(synth_data):
    p = plan(synth_data, "stream", host_available=10**9, processes=1)
    assert (p.path, p.val_cache) == ("stream", True) and p.reason.startswith("asked for")


def test_per_sample_path_counts_its_second_copy(synth_data):
    room = int(1.5 * TRAIN / HOST_SHARE)
    assert plan(synth_data, host_available=room, processes=1).path == "memory"
    assert plan(synth_data, host_available=room, processes=1, host_copies=2).path == "stream"


def test_unknown_path_is_refused(synth_data):
    with pytest.raises(ConfigError, match="auto, memory, stream"):
        plan(synth_data, "disk")


def test_processes_come_from_torchrun(synth_data, monkeypatch):
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert plan(synth_data, host_available=10**9).processes == 4


def test_cgroup_limit_caps_the_available_memory(tmp_path, monkeypatch):
    """cgroup v1 and v2 files as the kernel writes them; the tightest ancestor wins."""
    root = tmp_path / "sys"
    (root / "memory" / "a" / "b").mkdir(parents=True)
    (root / "memory" / "a" / "memory.limit_in_bytes").write_text("3000000000\n")
    (root / "memory" / "a" / "memory.usage_in_bytes").write_text("1000000000\n")
    (root / "memory" / "a" / "b" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (root / "memory" / "a" / "b" / "memory.usage_in_bytes").write_text("500000000\n")
    (root / "v2" / "x").mkdir(parents=True)
    (root / "v2" / "x" / "memory.max").write_text("max\n")
    (root / "v2" / "x" / "memory.current").write_text("1\n")
    files = {"/proc/self/cgroup": "4:memory:/a/b\n0::/x\n",
             "/proc/meminfo": "MemTotal: 24000000 kB\nMemAvailable:   20000000 kB\n"}
    real_path = memory_plan.Path

    def fake_path(p, *rest):
        p = str(p)
        if p in files:
            f = tmp_path / p.replace("/", "_")
            f.write_text(files[p])
            return real_path(f)
        if p == "/sys/fs/cgroup/memory":
            return real_path(root / "memory")
        if p == "/sys/fs/cgroup":
            return real_path(root / "v2")
        return real_path(p, *rest)

    monkeypatch.setattr(memory_plan, "Path", fake_path)
    assert host_available_bytes() == 2_000_000_000  # the limit of a/, less its usage
    files["/proc/self/cgroup"] = "0::/x\n"
    assert host_available_bytes() == 20_000_000 * 1024  # no limit: MemAvailable
