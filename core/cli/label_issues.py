"""`roadseg label-issues`: rank a split's images by how likely their labels are wrong, with the
suspect regions of each (core.labeling.label_issues), from a model that never saw them.

Two ways to get such a model: a checkpoint trained on another split (images it did train on are
marked `in_sample`), or `--folds K`, which trains K short models through the run queue, each
holding out one K-th of the split, and scores every image with the model that held it out.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from core.errors import CheckpointError, ConfigError, RoadsegError


def add_parser(sub) -> argparse.ArgumentParser:
    from core.labeling.issue_options import IMAGE_SCORES, IssueOptions

    defaults = IssueOptions()
    p = sub.add_parser("label-issues", help="rank images by likely label errors, with suspect regions")
    p.add_argument("--checkpoint", help="a model that did not train on --split (RUN/best.pt)")
    p.add_argument("--data", help="dataset folder")
    p.add_argument("--format", help="dataset format (default auto)")
    p.add_argument("--split", default="train", help="split to check (default train)")
    p.add_argument("--json", help="write every image's score and suspect regions here, worst first")
    p.add_argument("--rule", default="threshold", choices=("threshold", "margin"),
                   help="suspect pixel: self-confidence below its class's mean (threshold, "
                        "cleanlab's confident learning) or the top class ahead by --margin")
    p.add_argument("--margin", type=float, default=0.5, help="for --rule margin (default 0.5)")
    p.add_argument("--min-pixels", type=int, default=None,
                   help="smallest suspect region kept (default 1/2000 of the image, at least 20)")
    p.add_argument("--rank", default=defaults.method, choices=tuple(IMAGE_SCORES),
                   help="image score: " + "; ".join(f"{k}: {v}" for k, v in IMAGE_SCORES.items())
                        + f" (default {defaults.method})")
    p.add_argument("--region-threshold", type=float, default=defaults.region_threshold, metavar="P",
                   help="with --rank regions: regions the learned scorer gives at least this probability of "
                        f"being a label error are listed as likely errors (default {defaults.region_threshold:g})")
    p.add_argument("--void-confidence", type=float, default=defaults.void_confidence, metavar="P",
                   help="void pixels the model gives one class at least this probability form "
                        "'unlabelled' regions, objects nobody labelled (default 0.9; 0: void is "
                        "never scored, as in cleanlab)")
    p.add_argument("--no-flip", action="store_true",
                   help="predict each image once (default: averaged with its mirror image, twice the "
                        "time, a better ranking)")
    p.add_argument("--keep-edges", action="store_true",
                   help="also score the pixels on the given labels' edges (left out by default: "
                        "every model hesitates there; kept, boundaries drawn a few pixels off "
                        "rank a little higher and wrong objects lower)")
    p.add_argument("--include-reviewed", action="store_true",
                   help="also list regions marked reviewed in the dataset's sidecar")
    p.add_argument("--top", type=int, default=10, help="images to print (default 10)")
    p.add_argument("--device", default="auto")
    g = p.add_argument_group("k-fold (instead of --checkpoint)")
    g.add_argument("--folds", type=int, help="train K models, each holding out 1/K of --split")
    g.add_argument("--preset", help="training preset for the folds (e.g. camvid-fast)")
    g.add_argument("--config", help="training YAML for the folds")
    g.add_argument("--out", help="folder for the fold runs (RUNS/fold-1 ...)")
    g.add_argument("--arch")
    g.add_argument("--epochs", type=int)
    g.add_argument("--time-budget", type=float, metavar="MINUTES", help="per fold")
    g.add_argument("--image-size")
    g.add_argument("--batch-size", type=int)
    g.add_argument("--seed", type=int)
    p.set_defaults(handler=run)
    return p


def _fold_configs(args, names: list[str]):
    """One TrainConfig per fold: train on --split minus the fold, the fold held out."""
    from core.cli.commands import configs_from_args
    from core.labeling.label_issues import kfold_names

    configs = configs_from_args(args)
    if len(configs) != 1:
        raise ConfigError("--folds needs one training configuration, not a preset with several runs")
    base = configs[0]
    if base.holdout:
        raise ConfigError("--folds sets the hold-out itself; drop holdout from the config")
    folds = kfold_names(names, args.folds, seed=base.seed)
    out = []
    for i, fold in enumerate(folds, 1):
        out.append(dataclasses.replace(
            base, train_split=args.split, holdout=",".join(fold),
            val_split="holdout" if base.val_split == args.split else base.val_split,
            out=str(Path(base.out) / f"fold-{i}"), name=f"{base.name or base.arch}-fold{i}"))
    return out, folds


def _check_exact(source, split: str, fold: list[str]) -> None:
    """Hold-out matches name prefixes: make sure a fold holds out exactly its own images."""
    held = {s.name for s in source.hold_out(fold, from_split=split).samples("holdout")}
    extra = sorted(held - set(fold))
    if extra:
        raise ConfigError(f"{source.root}: image names are prefixes of others ({extra[0]}); "
                          "--folds cannot hold them out separately")


def _train_folds(args, source, tta):
    from core.cli.progress import TrainPrinter
    from core.engine.queue import RunQueue
    from core.evaluate import Predictor

    names = [s.name for s in source.samples(args.split)]
    configs, folds = _fold_configs(args, names)
    for fold in folds:
        _check_exact(source, args.split, fold)
    queue = RunQueue(configs, [TrainPrinter(failures=True)])
    summaries = queue.run()
    if queue.cancelled:
        raise KeyboardInterrupt
    for cfg, summary in zip(configs, summaries):
        if summary is None:
            raise RoadsegError(f"{cfg.out}: fold training failed")
    predictors = [Predictor.from_checkpoint(Path(c.out) / "best.pt", device=args.device, tta=tta)
                  for c in configs]
    fold_of = {n: i for i, fold in enumerate(folds) for n in fold}
    return predictors, configs, fold_of


def run(args) -> int:
    from core.cli.progress import progress_bar
    from core.data.source import open_dataset
    from core.evaluate import Predictor
    from core.labeling.issue_options import IssueOptions
    from core.labeling.label_issues import score_label_issues, trained_on
    from core.labeling.reviewed_issues import ReviewedIssues

    if not args.data and not (args.folds and (args.preset or args.config)):
        raise ConfigError("--data is required")
    if bool(args.checkpoint) == bool(args.folds):
        raise ConfigError("give either --checkpoint or --folds K (with --preset/--config and --out)")
    options = IssueOptions(rule=args.rule, margin=args.margin, min_pixels=args.min_pixels, method=args.rank,
                           void_confidence=args.void_confidence, skip_edges=not args.keep_edges,
                           flip=not args.no_flip, region_threshold=args.region_threshold)
    if args.folds:
        data = args.data
        if not data:
            from core.cli.commands import configs_from_args
            data = configs_from_args(args)[0].data
        source = open_dataset(data, args.format or "auto")
        source.samples(args.split)  # a missing split fails before any training
        predictors, configs, fold_of = _train_folds(args, source, options.tta())
        models = [str(Path(c.out) / "best.pt") for c in configs]

        def pick(s):
            return fold_of[s.name]
    else:
        source = open_dataset(args.data, args.format or "auto")
        source.samples(args.split)
        predictors = [Predictor.from_checkpoint(args.checkpoint, device=args.device, tta=options.tta())]
        configs, models = [predictors[0].config], [str(args.checkpoint)]

        def pick(_s):
            return 0
    for pr, model in zip(predictors, models):
        if tuple(pr.schema.names) != tuple(source.schema.names):
            raise CheckpointError(f"{model}: trained on classes {list(pr.schema.names)}, "
                                  f"but the dataset has {list(source.schema.names)}")
    seen = [trained_on(c, args.split) for c in configs]
    reviewed = None if args.include_reviewed else ReviewedIssues.for_dataset(source.root)
    report = score_label_issues(
        source.samples(args.split),
        lambda s: predictors[pick(s)].predict(source.read_image(s), with_probs=True).probs,
        source.read_mask, source.schema.num_classes, options,
        in_sample=lambda s: seen[pick(s)](s), model_name=lambda s: models[pick(s)],
        reviewed=None if reviewed is None else reviewed.get, progress=progress_bar("label-issues"))
    names = list(source.schema.names)
    _print(report, names, args)
    if args.json:
        d = {"data": str(source.root), "split": args.split, "models": models}
        d.update(report.to_dict(names, with_pixels=True))  # the Label view can open it
        Path(args.json).write_text(json.dumps(d, indent=1))
    return 0


def _print(report, names, args) -> None:
    ranked = report.ranked()
    method = report.options.method
    fit = report.region_fit
    learned = fit is not None and fit.used
    n_regions = sum(len(i.regions) for i in ranked)
    if learned:
        t = report.options.region_threshold
        likely = sum((r.probability or 0.0) >= t for i in ranked for r in i.regions)
        print(f"{args.split}: {len(ranked)} images, {likely} likely label errors (probability >= {t:g}) "
              f"among {n_regions} candidate regions (ranked by {method})")
    else:
        print(f"{args.split}: {len(ranked)} images, {n_regions} suspect regions "
              f"(rule {report.options.rule}, ranked by {method})")
    if fit is not None:
        print(f"note: {fit.note}" + (f" (held-out AP on planted errors {fit.heldout_ap:.2f})"
                                     if fit.heldout_ap is not None else ""))
    for k, it in enumerate(ranked[:max(0, args.top)], 1):
        first = ""
        if it.regions:
            r = it.regions[0]
            given, suggested = r.class_names(names)
            first = (f"  {'most likely' if learned else 'largest'}: {given} -> {suggested} {r.pixels} px "
                     f"at x{r.bbox[0]}-{r.bbox[2]} y{r.bbox[1]}-{r.bbox[3]}"
                     + (f" p {r.probability:.2f}" if r.probability is not None else ""))
        mark = "  (in sample)" if it.in_sample else ""
        print(f"{k:>4}. {it.name}  score {it.score(method):.4f}  {len(it.regions)} regions{first}{mark}")
    weak = report.weak_note(names)
    if weak:
        print(f"note: {weak}")
    n_in = sum(i.in_sample for i in ranked)
    if n_in:
        print(f"note: the model trained on {n_in} of these images; its doubts about them are weak "
              "evidence (score another split, or use --folds)", file=sys.stderr)
