"""What every exporter shares: which samples to write, and copying their images."""
from __future__ import annotations

from pathlib import Path

from core.data import io
from core.data.source import DataSource, Sample
from core.errors import DataError


def samples_to_export(source: DataSource, split: str | None, flat: bool) -> list[Sample]:
    """Labelled samples of one split (None: all). `flat` layouts keep no split folders, so two
    splits' images with one name would collide: that is an error naming both files."""
    splits = source.splits if split in (None, "", "all") else [split]
    samples = [s for name in splits for s in source.samples(name) if s.mask is not None]
    if not samples:
        raise DataError(f"{source.root}: no labelled images to export"
                        + (f" in split {split!r}" if split not in (None, "", "all") else ""))
    if flat:
        seen: dict[str, Sample] = {}
        for s in samples:
            if s.name in seen:
                raise DataError(f"{s.image}: has the same name as {seen[s.name].image}; this layout "
                                "keeps no split folders (export one split at a time)")
            seen[s.name] = s
    return samples


def copy_image(sample: Sample, dest: Path) -> None:
    try:
        data = Path(sample.image).read_bytes()
    except OSError as e:
        raise DataError(f"{sample.image}: cannot read image ({e.strerror or e})") from e
    io.atomic_write_bytes(dest, data)
