"""ONNX export: the file onnxruntime runs gives PyTorch's logits (max |diff| <= 1e-4 on random
input), for the baseline and an SMP model, and at a second size when exported with --dynamic.
Checkpoints are written straight from freshly built models: training adds nothing here."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("onnxscript")
ort = pytest.importorskip("onnxruntime")

from core.classes import get_schema  # noqa: E402
from core.cli import main  # noqa: E402
from core.config import TrainConfig  # noqa: E402
from core.engine.checkpoint import save_checkpoint  # noqa: E402
from core.engine.setup import build_model  # noqa: E402
from core.export import export_onnx  # noqa: E402

TOL = 1e-4


def checkpoint(tmp_path, arch: str, encoder: str | None = None, size=(32, 48)):
    torch.manual_seed(0)
    cfg = TrainConfig(data="unused", arch=arch, encoder=encoder, image_size=size, out="unused")
    schema = get_schema("camvid11")
    model = build_model(cfg, schema.num_classes)
    path = save_checkpoint(tmp_path / f"{arch}.pt", {"config": cfg.to_dict(), "schema": schema.to_dict(),
                                                     "model": model.state_dict()})
    return path, model.eval()


def run_both(onnx_path, model, shape) -> float:
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ref = model(x).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {"image": x.numpy()})[0]
    assert got.shape == ref.shape
    return float(np.abs(got - ref).max())


@pytest.mark.slow
def test_baseline_dynamic_export_through_the_cli(tmp_path, capsys):
    ckpt, model = checkpoint(tmp_path, "baseline")
    out = tmp_path / "baseline.onnx"
    assert main(["export", "--checkpoint", str(ckpt), "--onnx", str(out), "--dynamic"]) == 0
    assert "max |logit difference|" in capsys.readouterr().out
    assert run_both(out, model, (1, 3, 32, 48)) <= TOL   # the traced size
    assert run_both(out, model, (2, 3, 45, 70)) <= TOL   # another batch and a size needing padding
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert sess.get_inputs()[0].shape == ["batch", 3, "height", "width"]
    meta = sess.get_modelmeta().custom_metadata_map
    assert json.loads(meta["roadseg.classes"])[0] == "Sky" and meta["roadseg.image_size"] == "32x48"
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".pt"] == ["baseline.onnx"]  # one file


@pytest.mark.slow
def test_unet_resnet18_fixed_size_export(tmp_path):
    ckpt, model = checkpoint(tmp_path, "unet", "resnet18")
    info = export_onnx(ckpt, tmp_path / "unet.onnx", image_size=(64, 64))
    assert info.max_abs_diff is not None and info.max_abs_diff <= TOL
    assert run_both(info.path, model, (1, 3, 64, 64)) <= TOL
    sess = ort.InferenceSession(str(info.path), providers=["CPUExecutionProvider"])
    assert sess.get_inputs()[0].shape == [1, 3, 64, 64]


def test_missing_checkpoint_is_one_clear_line(tmp_path, capsys):
    assert main(["export", "--checkpoint", str(tmp_path / "nope.pt"), "--onnx", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.pt" in err[0]
    assert not (tmp_path / "x.onnx").exists()
