"""One opened dataset, whatever its format: lists samples per split and reads/writes them.

Callers (training, statistics, the label editor) only see train-id masks with 255 for void;
the format object behind a DataSource translates to and from the files' own encoding.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from core.classes import IGNORE_INDEX, ClassSchema
from core.data import io
from core.data.formats import DatasetFormat, detect_format, get_format
from core.data.sample import Sample
from core.errors import DataError

__all__ = ["DataSource", "Sample", "open_dataset"]


class DataSource:
    """A validated listing of a dataset plus the format that knows how its masks are encoded."""

    def __init__(self, root: Path, fmt: DatasetFormat, schema: ClassSchema,
                 splits: dict[str, list[Sample]]):
        self.root = Path(root)
        self.format: str = fmt.name
        self.schema = schema
        self._fmt = fmt
        self._splits = {k: sorted(v, key=lambda s: s.name) for k, v in splits.items()}

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(v)}" for k, v in self._splits.items())
        return f"DataSource({str(self.root)!r}, format={self.format!r}, {counts})"

    @property
    def splits(self) -> list[str]:
        return list(self._splits)

    def samples(self, split: str) -> list[Sample]:
        try:
            return list(self._splits[split])
        except KeyError:
            raise DataError(
                f"{self.root}: no split {split!r} (available: {', '.join(self._splits) or 'none'})"
            ) from None

    def hold_out(self, prefixes: str | Sequence[str], from_split: str = "train",
                 into: str = "holdout") -> "DataSource":
        """A copy whose `from_split` loses the samples whose file names start with one of
        `prefixes` and whose new split `into` holds them. CamVid names carry the video sequence
        (``0006R0_f01230``), so this checks a recipe on a street it never trained on."""
        if isinstance(prefixes, str):
            prefixes = [p.strip() for p in prefixes.split(",")]
        prefixes = tuple(p for p in prefixes if p)
        if not prefixes:
            raise DataError("hold-out: give at least one file-name prefix (e.g. 0006R0)")
        if into in self._splits:
            raise DataError(f"{self.root}: hold-out split {into!r} already exists")
        source = self.samples(from_split)
        held = [dataclasses.replace(s, split=into) for s in source if s.name.startswith(prefixes)]
        kept = [s for s in source if not s.name.startswith(prefixes)]
        if not held:
            raise DataError(f"{self.root}: no {from_split!r} image name starts with "
                            f"{' or '.join(prefixes)}")
        if not kept:
            raise DataError(f"{self.root}: holding out {' and '.join(prefixes)} leaves "
                            f"the {from_split!r} split empty")
        splits = dict(self._splits)
        splits[from_split], splits[into] = kept, held
        return DataSource(self.root, self._fmt, self.schema, splits)

    def image_size(self, sample: Sample) -> tuple[int, int]:
        """(H, W) of a sample's image from its header (no decode)."""
        return io.image_size(sample.image)

    def check_header(self, sample: Sample) -> None:
        """DataError when a sample's files are missing, unreadable by their headers, or of two
        sizes: what can be known of a pair without decoding it (core.data.streamed)."""
        hw = self.image_size(sample)
        if sample.mask is None:
            raise DataError(f"{sample.image}: this image has no mask")
        mask_hw = io.image_size(sample.mask)
        if tuple(mask_hw) != tuple(hw):
            raise DataError(f"{sample.mask}: mask is {mask_hw[0]}x{mask_hw[1]} but its image "
                            f"{sample.image.name} is {hw[0]}x{hw[1]} (HxW)")

    def read_image(self, sample: Sample) -> np.ndarray:
        return io.read_image(sample.image)

    def _raw_mask(self, sample: Sample) -> np.ndarray:
        if sample.mask is None:
            raise DataError(f"{sample.image}: this image has no mask")
        return self._fmt.decode(io.read_index_mask(sample.mask), self.schema, sample.mask)

    @staticmethod
    def _check_size(sample: Sample, mask_hw: tuple[int, ...], image_hw: tuple[int, ...]) -> None:
        if tuple(mask_hw) != tuple(image_hw):
            raise DataError(
                f"{sample.mask}: mask is {mask_hw[0]}x{mask_hw[1]} but its image "
                f"{sample.image.name} is {image_hw[0]}x{image_hw[1]} (HxW)"
            )

    def read_mask(self, sample: Sample) -> np.ndarray:
        """HxW uint8 train ids (255 void), checked against the schema and the image's size."""
        mask = self._raw_mask(sample)
        self._check_size(sample, mask.shape, self.image_size(sample))
        return mask

    def read_pair(self, sample: Sample) -> tuple[np.ndarray, np.ndarray]:
        """(image RGB, mask train ids) with one decode each and the size check."""
        image = self.read_image(sample)
        mask = self._raw_mask(sample)
        self._check_size(sample, mask.shape, image.shape[:2])
        return image, mask

    def check(self, split: str, progress: Callable[[int, int], None] | None = None,
              cancel: Callable[[], bool] | None = None) -> list[tuple[Sample, DataError]]:
        """Read every image (and mask) of `split` once; return the samples that fail, with why.

        Opening a dataset only lists files, so it stays fast on thousands of images, and a corrupt
        or mismatched file shows up only when read. This finds them all up front (it decodes
        everything: run it in a worker) so a caller can warn per image while the rest of the
        dataset stays usable. Stops early, returning what it found so far, when `cancel()` is true.
        """
        samples = self.samples(split)
        bad: list[tuple[Sample, DataError]] = []
        for i, sample in enumerate(samples, 1):
            if cancel is not None and cancel():
                break
            try:
                if sample.mask is None:
                    self.read_image(sample)
                else:
                    self.read_pair(sample)
            except DataError as e:
                bad.append((sample, e))
            if progress is not None:
                progress(i, len(samples))
        return bad

    def write_mask(self, sample: Sample, mask: np.ndarray) -> Path:
        """Save a train-id mask in the format's own encoding, atomically; returns the path."""
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise DataError(f"{sample.image}: mask to save must be HxW, got shape {mask.shape}")
        if mask.dtype != np.uint8:
            if not np.issubdtype(mask.dtype, np.integer) or mask.min() < 0 or mask.max() > 255:
                raise DataError(f"{sample.image}: mask to save must hold uint8 train ids")
            mask = mask.astype(np.uint8)
        bad = (mask >= self.schema.num_classes) & (mask != IGNORE_INDEX)
        if bad.any():
            raise DataError(
                f"{sample.image}: mask to save holds ids {np.unique(mask[bad])[:10].tolist()} "
                f"outside 0..{self.schema.num_classes - 1} and {IGNORE_INDEX}"
            )
        hw = io.image_size(sample.image)
        if mask.shape != tuple(hw):
            raise DataError(
                f"{sample.image}: mask to save is {mask.shape[0]}x{mask.shape[1]}, "
                f"image is {hw[0]}x{hw[1]}"
            )
        path = sample.mask or self._fmt.mask_path(self.root, sample)
        io.write_index_mask(path, self._fmt.encode(mask, self.schema))
        return path


def open_dataset(root: str | Path, format: str = "auto") -> DataSource:  # noqa: A002
    """Open and validate a dataset folder; the format is detected unless named."""
    from core.data import shards  # LitData shards (core.data.shards), imported here: it imports this module

    if format == "litdata" or (format == "auto" and shards.is_shards(root)):
        return shards.open_shards(root)
    root = Path(root).expanduser()
    if root.exists() and not root.is_dir():
        raise DataError(f"{root}: is a file, not a dataset folder")
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder does not exist")
    try:
        fmt = get_format(detect_format(root) if format == "auto" else format)
        schema, splits = fmt.scan(root)
    except OSError as e:  # an unreadable folder (permissions, a vanished network share)
        raise DataError(f"{e.filename or root}: cannot read ({e.strerror or e})") from e
    splits = {name: samples for name, samples in splits.items() if samples}
    if not splits:
        raise DataError(f"{root}: no images found for format {fmt.name!r}")
    return DataSource(root, fmt, schema, splits)
