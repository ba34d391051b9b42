"""Argument parsing and dispatch. Bad arguments and bad data end in one clear line and a non-zero
exit, never a traceback."""
from __future__ import annotations

import argparse
import sys

from core.cli.option_flags import add_model_option_flags, registry_choices, registry_help
from core.config import DATA_PATHS
from core.errors import RoadsegError


def _train_args(p: argparse.ArgumentParser) -> None:
    # every override defaults to None so that only flags given on the command line replace
    # values from --config / --preset
    p.add_argument("--config", help="YAML config file (flags given here override it)")
    p.add_argument("--preset", help="a named preset (core/resources/presets) (e.g. camvid-fast)")
    p.add_argument("--data", help="dataset folder")
    names, helps = registry_choices(), registry_help()
    p.add_argument("--format", help="dataset format: " + ", ".join(names["format"]))
    p.add_argument("--arch", help="architecture (see `roadseg models`)")
    p.add_argument("--encoder", help="encoder / backbone")
    p.add_argument("--loss", help=", ".join(names["loss"]))
    p.add_argument("--optimizer", type=str.lower, choices=names["optimizer"], help=helps["optimizer"])
    p.add_argument("--schedule", type=str.lower, choices=names["schedule"], help=helps["schedule"])
    p.add_argument("--lr", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--warmup-epochs", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--time-budget", type=float, metavar="MINUTES",
                   help="minutes of training + validation: after the first epochs, run as many "
                        "epochs as fit, --epochs at most (0: off)")
    p.add_argument("--ema", type=float, help="validate and save a moving average of the weights with this "
                                             "decay (e.g. 0.999; 0: off)")
    p.add_argument("--image-size", help="HxW, e.g. 360x480")
    p.add_argument("--crop-size", help="train on random HxW crops of the (augmented) image, e.g. 240x320")
    p.add_argument("--rare-crop", type=float,
                   help="share (0-1) of training crops centred on a class rarer than the median class")
    p.add_argument("--copy-paste", type=float,
                   help="share (0-1) of training images that get the pixels of the classes rarer "
                        "than the median class pasted from another training image")
    p.add_argument("--holdout", help="file-name prefixes (comma-separated, e.g. 0006R0) moved from the "
                                     "train split into a 'holdout' split, scored at the end")
    p.add_argument("--augment", help="none, light, strong")
    p.add_argument("--class-weights", type=str.lower, choices=names["class_weights"],
                   help=helps["class_weights"])
    add_model_option_flags(p)  # --dropout, --no-skip, --boundary-head, ... from the registry
    p.add_argument("--pretrained", action="store_const", const=True,
                   help="start the encoder from its library's ImageNet weights (Hugging Face / torch hub "
                        "cache, downloaded once when online; --weights-path wins)")
    p.add_argument("--weights-path", help="local encoder weights file (.pth / .safetensors)")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N, mps")
    p.add_argument("--data-path", type=str.lower, choices=DATA_PATHS,
                   help="where the training data lives: decoded in memory, or streamed from the files "
                        "(auto: memory when it fits in half the available RAM)")
    p.add_argument("--precision", help="auto, fp32, bf16, fp16")
    p.add_argument("--workers", type=int, help="data loader worker processes")
    p.add_argument("--seed", type=int)
    p.add_argument("--out", help="run folder to write")
    p.add_argument("--resume", action="store_true",
                   help="continue --out RUN from RUN/last.pt with RUN/config.yaml (flags given override it)")


def _tta_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tta-flip", action="store_true",
                   help="test-time augmentation: also predict the mirrored image and average")
    p.add_argument("--tta-scales", help="test-time augmentation: input scales to average, e.g. 0.75,1,1.25")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="roadseg", description="Road-scene semantic segmentation workbench.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _train_args(sub.add_parser("train", help="train one configuration into a run folder"))

    p = sub.add_parser("eval", help="score a checkpoint on a split at full mask resolution")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--format", default="auto")
    p.add_argument("--split", default="val")
    p.add_argument("--holdout", help="as in train: move these train file-name prefixes into split 'holdout'")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", help="also write the scores to this JSON file")
    _tta_args(p)

    p = sub.add_parser("predict", help="write class-index masks and colour overlays")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--input", required=True, help="an image or a folder of images")
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="auto")
    _tta_args(p)

    p = sub.add_parser("flops", help="GFLOPs and parameters of an architecture")
    p.add_argument("--arch", required=True)
    p.add_argument("--encoder")
    p.add_argument("--image-size", default="360x480")
    p.add_argument("--num-classes", type=int, default=11)

    p = sub.add_parser("stats", help="class pixel frequencies and class weights of a split")
    p.add_argument("--data", required=True)
    p.add_argument("--format", default="auto")
    p.add_argument("--split", default="train")
    p.add_argument("--json", help="also write the statistics to this JSON file")

    p = sub.add_parser("synth", help="generate the synthetic road-scene dataset (CamVid layout)")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--size", default="360x480")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--label-errors", type=float, default=0.0, metavar="SHARE",
                   help="plant one known label mistake in this share of the val masks (listed in "
                        "label-errors.json): a set to try `roadseg label-issues` on")

    p = sub.add_parser("runs", help="comparison table over the runs in a folder")
    p.add_argument("dir")
    p.add_argument("--format", choices=("md", "csv"), default="md")

    p = sub.add_parser("export", help="export a checkpoint to ONNX (needs the onnx extra)")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--onnx", required=True, metavar="OUT.onnx", help="ONNX file to write")
    p.add_argument("--image-size", help="HxW input size (default: the size it trained at)")
    p.add_argument("--dynamic", action="store_true", help="free batch, height and width")

    sub.add_parser("models", help="list architectures, their encoders and options")
    from core.cli.label_issues import add_parser as add_label_issues  # light: no torch at import
    add_label_issues(sub)
    from core.cli.convert import add_parser as add_convert  # light: no torch at import
    add_convert(sub)
    return parser


def one_line(e: BaseException) -> str:
    """An error's message on one line. A DataLoader worker re-raises errors with its whole
    traceback as the message; the original message is then its last line ('pkg.Error: msg')."""
    text = str(e).strip()
    if "Original Traceback" in text:
        last = text.splitlines()[-1]
        text = last.split(": ", 1)[1] if ": " in last else last
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _close_progress_bars() -> None:
    """Clear unfinished tqdm bars so the error line starts at column 0."""
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from core.cli import commands  # heavy imports (torch) only after arguments parse

    handler = getattr(args, "handler", None) or getattr(commands, f"cmd_{args.command}")
    try:
        return int(handler(args) or 0)
    except RoadsegError as e:
        _close_progress_bars()
        print(f"roadseg: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("roadseg: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
