"""What each `roadseg` sub-command does. Argument parsing lives in core/cli/main.py."""
from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import numpy as np

from core.cli.option_flags import model_option_dests
from core.config import TrainConfig, parse_size
from core.errors import ConfigError, DataError, RoadsegError
from core.presets import PRESETS_DIR, expand_runs, load_preset


# argparse dest -> TrainConfig field, for flags whose names differ only by dashes
_OVERRIDES = ("data", "format", "arch", "encoder", "loss", "optimizer", "schedule", "lr", "weight_decay",
              "warmup_epochs", "batch_size", "epochs", "time_budget", "ema", "image_size", "crop_size", "rare_crop", "copy_paste", "holdout", "augment",
              "class_weights", "pretrained", "weights_path", "data_path",
              "device", "precision", "workers", "seed", "out")


def configs_from_args(args) -> list[TrainConfig]:
    """Preset, then --config file, then flags: later sources override earlier ones.

    A preset with a `runs:` list gives one config per entry (the entry's values over the shared
    ones), each written to `--out/<name>`: a queue, as the report's comparison needs.
    """
    preset = load_preset(args.preset, PRESETS_DIR) if args.preset else {}
    entries = preset.pop("runs", None)
    values: dict = dict(preset)
    if args.config:
        values.update(TrainConfig.from_yaml(args.config).to_dict())
    saved = None  # the config of the run that `--resume --out RUN` continues (flags override it)
    if not args.config and getattr(args, "resume", False) and not args.preset and args.out:
        saved = Path(args.out) / "config.yaml"
        if saved.is_file():
            values.update(TrainConfig.from_yaml(saved).to_dict())
    for key in (*_OVERRIDES, *model_option_dests()):  # model options: from the registry
        v = getattr(args, key, None)
        if v is not None:
            values[key] = v
    for key, flag in (("data", "--data"), ("out", "--out")) + (() if entries else (("arch", "--arch"),)):
        if not values.get(key):
            if saved is not None and not saved.is_file():
                raise ConfigError(f"{saved}: no such file; --resume --out needs a run folder that has "
                                  "trained (or give --config)")
            raise ConfigError(f"{flag} is required (on the command line, in --config or in --preset)")
    return expand_runs(values, entries)


def cmd_train(args) -> int:
    from core.cli.progress import TrainPrinter
    from core.engine.distributed import launched_by_torchrun
    from core.engine.queue import RunQueue
    from core.engine.trainer import Trainer

    configs = configs_from_args(args)
    if len(configs) == 1:
        runner = Trainer(configs[0], [TrainPrinter()], resume=args.resume)
    else:
        if args.resume:
            raise ConfigError("--resume continues one run; give that run's --out (its folder)")
        runner = RunQueue(configs, [TrainPrinter(failures=True)])

    def on_sigint(signum, frame):  # first Ctrl+C: stop after this step with last.pt saved
        print("\nstopping… (Ctrl+C again to abort)", file=sys.stderr)
        runner.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    # torchrun forwards the signal it gets (SIGINT from Ctrl+C or the GUI's Stop, SIGTERM from a
    # scheduler) to its workers: under torchrun SIGTERM also stops after the step with last.pt saved
    previous_term = signal.signal(signal.SIGTERM, on_sigint) if launched_by_torchrun() else None
    try:
        result = runner.run()
    except RoadsegError:
        raise
    except Exception as e:  # already reported as RunFailed; one line for the console
        import torch

        if isinstance(e, torch.OutOfMemoryError) or "out of memory" in str(e).lower():
            raise RoadsegError(f"out of memory: {str(e).splitlines()[0]}. "
                               "Try a smaller batch size or image size.") from None
        raise RoadsegError(f"training failed: {type(e).__name__}: {e}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
    if isinstance(runner, RunQueue):
        done = [r for r in result if r is not None]
        print(f"queue: {len(done)} of {len(configs)} runs finished; compare them with "
              f"`roadseg runs {args.out or Path(configs[0].out).parent}`")
        if any(r.get("cancelled") for r in done) or runner.cancelled:
            return 130
        return 0 if len(done) == len(configs) else 2
    return 130 if result.get("cancelled") else 0


def _tta(args):
    """TTAOptions from --tta-flip / --tta-scales (ConfigError for bad scales)."""
    from core.tta import TTAOptions, parse_scales

    scales = parse_scales(args.tta_scales) if args.tta_scales else (1.0,)
    return TTAOptions(flip=bool(args.tta_flip), scales=scales)


def cmd_eval(args) -> int:
    from core.cli.progress import progress_bar
    from core.data.source import open_dataset
    from core.evaluate import evaluate

    source = open_dataset(args.data, args.format)
    if args.holdout:
        source = source.hold_out(args.holdout)
    tta = _tta(args)
    res = evaluate(args.checkpoint, source, args.split, device=args.device, progress=progress_bar("eval"),
                   tta=tta)
    if tta.enabled:
        print(f"test-time augmentation: flip={tta.flip}, scales={list(tta.scales)} ({tta.views} views per image)")
    s = res.scores
    print(f"{args.split}: {len(res.names)} images, mIoU {s.miou:.4f}, pixel acc {s.pixel_acc:.4f}, "
          f"mean class acc {s.mean_class_acc:.4f}")
    print("mIoU: one confusion matrix over the split at full mask resolution, void ignored, "
          "mean IoU over classes present in ground truth or prediction")
    for name, iou, dice in zip(res.class_names, s.iou, s.dice):
        iou_s = "   n/a" if np.isnan(iou) else f"{iou:.4f}"
        dice_s = "   n/a" if np.isnan(dice) else f"{dice:.4f}"
        print(f"  {name:<14} IoU {iou_s}  Dice {dice_s}")
    if args.json:
        Path(args.json).write_text(json.dumps(res.to_dict(), indent=2))
    return 0


def cmd_predict(args) -> int:
    from core.cli.progress import progress_bar
    from core.data import io
    from core.evaluate import Predictor

    src = Path(args.input)
    if src.is_dir():
        files = sorted(p for p in src.iterdir() if io.is_image_file(p))
    elif src.is_file():
        files = [src]
    else:
        raise DataError(f"{src}: no such image or folder")
    if not files:
        raise DataError(f"{src}: no images found")
    predictor = Predictor.from_checkpoint(args.checkpoint, device=args.device, tta=_tta(args))
    out = Path(args.out)
    (out / "overlay").mkdir(parents=True, exist_ok=True)
    bar = progress_bar("predict")
    for i, path in enumerate(files):
        image = io.read_image(path)
        mask = predictor.predict(image).mask
        io.write_index_mask(out / f"{path.stem}.png", mask)
        overlay = (0.5 * image + 0.5 * predictor.schema.colorize(mask)).astype(np.uint8)
        io.write_image(out / "overlay" / f"{path.stem}.png", overlay)
        bar(i + 1, len(files))
    print(f"wrote {len(files)} masks to {out} and overlays to {out / 'overlay'}")
    return 0


def cmd_flops(args) -> int:
    from core.models.cost import cost

    size = parse_size(args.image_size)
    g, params = cost(TrainConfig(arch=args.arch, encoder=args.encoder, image_size=size), args.num_classes)
    print(f"{args.arch}{'/' + args.encoder if args.encoder else ''} at {size[0]}x{size[1]}: "
          f"{g:.3f} GFLOPs (forward, one image, multiply-add = 2), {params / 1e6:.3f} M params")
    return 0


def cmd_stats(args) -> int:
    from core.cli.progress import progress_bar
    from core.data.source import open_dataset
    from core.data.stats import WEIGHT_METHODS, compute_stats

    source = open_dataset(args.data, args.format)
    st = compute_stats(source, args.split, progress=progress_bar("stats"))
    weights = {m: st.weights(m) for m in WEIGHT_METHODS}
    print(f"{source.root} [{source.format}] split {args.split}: {st.num_images} images, "
          f"{st.total_pixels} pixels ({st.void_pixels} void)")
    print(f"{'class':<14}{'pixels':>12}{'fraction':>10}{'images':>8}" + "".join(f"{m:>12}" for m in WEIGHT_METHODS))
    for c, name in enumerate(st.class_names):
        print(f"{name:<14}{st.pixel_counts[c]:>12d}{st.fractions[c]:>10.4f}{st.image_counts[c]:>8d}"
              + "".join(f"{weights[m][c]:>12.3f}" for m in WEIGHT_METHODS))
    if args.json:
        d = st.to_dict()
        d["weights"] = {m: w.tolist() for m, w in weights.items()}
        Path(args.json).write_text(json.dumps(d, indent=2))
    return 0


def cmd_synth(args) -> int:
    from core.cli.progress import progress_bar
    from core.data.synth import generate_synthetic

    if args.count < 1:
        raise ConfigError(f"--count must be at least 1, got {args.count}")
    out = generate_synthetic(args.out, args.count, parse_size(args.size), seed=args.seed,
                             val_fraction=args.val_fraction, progress=progress_bar("synth"),
                             label_errors=args.label_errors)
    print(f"wrote {args.count} synthetic road scenes to {out}")
    if args.label_errors:
        from core.data.synth import LABEL_ERRORS_FILE

        errors = json.loads((out / LABEL_ERRORS_FILE).read_text())["errors"]
        print(f"planted {len(errors)} label errors in val, listed in {out / LABEL_ERRORS_FILE}")
    return 0


def cmd_runs(args) -> int:
    from core.runs import list_runs, runs_table, table_to_csv, table_to_markdown

    if not Path(args.dir).is_dir():
        raise DataError(f"{args.dir}: no such folder")
    rows = runs_table(list_runs(args.dir))
    if not rows:
        raise DataError(f"{args.dir}: no run folders (with config.yaml) found")
    sys.stdout.write(table_to_markdown(rows) if args.format == "md" else table_to_csv(rows))
    return 0


def cmd_export(args) -> int:
    from core.export import export_onnx

    size = parse_size(args.image_size) if args.image_size else None
    info = export_onnx(args.checkpoint, args.onnx, image_size=size, dynamic=args.dynamic)
    shape = "[N,3,H,W] (any N, H, W)" if info.dynamic else f"[1,3,{info.image_size[0]},{info.image_size[1]}]"
    print(f"wrote {info.path}: input 'image' {shape} float32 RGB, ImageNet-normalised; "
          f"output 'logits' [N,{len(info.class_names)},H,W]")
    if info.max_abs_diff is not None:
        print(f"onnxruntime vs PyTorch on random input: max |logit difference| {info.max_abs_diff:.2e}")
    return 0


def cmd_models(args) -> int:
    from core.models.registry import list_models, model_info

    for name in list_models():
        info = model_info(name)
        print(f"{name:<14} {info.description}")
        print(f"{'':<14} encoders: {', '.join(info.encoders)} (default {info.default_encoder}); "
              f"options: {', '.join(sorted(info.options)) or 'none'}")
    return 0
