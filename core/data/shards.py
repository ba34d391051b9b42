"""Sharded datasets for clusters and object stores, through LitData.

Why LitData (docs/data.md has the comparison): a dataset of 100,000 frames as loose files is
slow to list and copy and awkward on an object store; LitData writes it as a few hundred chunk
files plus an index (`litdata.optimize`), reads items from local folders or s3/gs/azure URLs,
and caches the chunks it fetched. Each item keeps the image's and the mask's **file bytes as
they are** (PNG/JPEG, the dataset's own mask encoding), so a round trip is lossless by
construction and the decode is the same `core.data.io` code as for loose files.

Layout written by `write_shards` (`roadseg convert --to litdata`):

    OUT/roadseg-shards.json   the class schema, the source's format (how its masks are encoded),
                              and per split the names and image sizes in the shards' index order
    OUT/<split>/              one LitData dataset per split (index.json + chunk-*.bin)

`open_shards` gives a ShardSource: a DataSource whose pairs come from the shards by index, so
training (in memory or streamed), evaluation, label-issue scoring and torchrun use it unchanged,
and a run's order, seeds and mid-epoch resume are the project's own (core.data.batch_loader):
exact, and with any number of processes. Shards are read-only: masks are corrected in the
dataset the shards were written from.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.classes import ClassSchema
from core.data import io
from core.data.formats import get_format
from core.data.sample import Sample
from core.data.source import DataSource
from core.errors import ConfigError, DataError

MANIFEST = "roadseg-shards.json"
URL_SCHEMES = ("s3://", "gs://", "azure://", "hf://", "local:")


def is_url(root: str | Path) -> bool:
    return str(root).startswith(URL_SCHEMES)


def is_shards(root: str | Path) -> bool:
    """A folder (or URL) written by write_shards."""
    return is_url(root) or (Path(root).expanduser() / MANIFEST).is_file()


def _litdata():
    try:
        import litdata
    except ImportError:
        raise ConfigError("sharded datasets need LitData: pip install 'roadseg[shards]' "
                          "(or pip install litdata)") from None
    return litdata


def _item(job: tuple[str, str, str]) -> dict:
    """One pair as LitData stores it: the name and both files' bytes, untouched."""
    name, image, mask = job
    try:
        return {"name": name, "image": Path(image).read_bytes(), "mask": Path(mask).read_bytes()}
    except OSError as e:
        raise DataError(f"{e.filename}: cannot read ({e.strerror or e})") from None


def write_shards(source: DataSource, out: str | Path, splits: list[str] | None = None,
                 chunk_bytes: str = "64MB", workers: int = 1,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Write `source`'s splits as LitData shards under `out` (new or empty); returns `out`.
    Every pair's header is checked first (core.data.source.DataSource.check_header), so a
    shard never holds a file the reader would refuse by its size."""
    litdata = _litdata()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: exists and is not empty; shards go into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"version": 1, "format": source.format, "schema": source.schema.to_dict(), "splits": {}}
    splits = splits or source.splits
    total = sum(len(source.samples(s)) for s in splits)
    done = 0
    for split in splits:
        samples = source.samples(split)
        sizes = {}
        for s in samples:
            source.check_header(s)
            sizes[s.name] = list(source.image_size(s))
        suffix = {s.name: (s.image.suffix.lower(), s.mask.suffix.lower()) for s in samples}
        litdata.optimize(fn=_item, inputs=[(s.name, str(s.image), str(s.mask)) for s in samples],
                         output_dir=str(out / split), chunk_bytes=chunk_bytes, num_workers=max(1, workers),
                         mode="overwrite")
        names = [str(item["name"]) for item in litdata.StreamingDataset(str(out / split))]
        manifest["splits"][split] = {"names": names, "sizes": [sizes[n] for n in names],
                                     "suffixes": [list(suffix[n]) for n in names]}
        done += len(samples)
        if progress is not None:
            progress(done, total)
    (out / MANIFEST).write_text(json.dumps(manifest))
    return out


def _read_manifest(root: str) -> dict:
    if is_url(root):
        try:
            import fsspec

            with fsspec.open(f"{root.rstrip('/')}/{MANIFEST}", "rt") as f:
                return json.load(f)
        except ImportError as e:
            raise ConfigError(f"{root}: reading a manifest from this URL needs {e.name} "
                              "(e.g. pip install s3fs / gcsfs / adlfs)") from None
        except (OSError, ValueError) as e:
            raise DataError(f"{root}/{MANIFEST}: cannot read ({e})") from None
    path = Path(root) / MANIFEST
    try:
        return json.loads(path.read_text())
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    except ValueError as e:
        raise DataError(f"{path}: not a roadseg shard manifest ({e})") from None


class ShardSource(DataSource):
    """A DataSource over LitData shards: pairs by index, sizes from the manifest, read-only."""

    def __init__(self, root: str, manifest: dict):
        try:
            fmt = get_format(manifest["format"])
            schema = ClassSchema.from_dict(manifest["schema"])
            splits = {}
            self._index: dict[tuple[str, str], int] = {}
            self._sizes: dict[tuple[str, str], tuple[int, int]] = {}
            base = root.rstrip("/")
            for split, entry in manifest["splits"].items():
                samples = []
                for i, (name, size, (isuf, msuf)) in enumerate(zip(entry["names"], entry["sizes"],
                                                                   entry["suffixes"], strict=True)):
                    samples.append(Sample(name, Path(f"{base}/{split}/{name}{isuf}"),
                                          Path(f"{base}/{split}/{name}.mask{msuf}"), split))
                    self._index[(split, name)] = i
                    self._sizes[(split, name)] = (int(size[0]), int(size[1]))
                splits[split] = samples
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"{root}/{MANIFEST}: malformed manifest ({type(e).__name__}: {e})") from None
        super().__init__(Path(root) if not is_url(root) else Path(base.split("://", 1)[1]), fmt, schema, splits)
        self.url = base
        self.format = "litdata"
        self.encoded_as = fmt.name
        self._datasets: dict = {}
        self._lock = threading.Lock()
        self._shard_of: dict[tuple[str, str], str] = {}  # held-out samples -> the split they came from

    def __getstate__(self) -> dict:  # DataLoader workers open their own readers
        state = self.__dict__.copy()
        state["_datasets"], state["_lock"] = {}, None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _where(self, sample: Sample) -> tuple[str, int]:
        """(the split whose shards hold the sample, its index there)."""
        shard = self._shard_of.get((sample.split, sample.name), sample.split)
        return shard, self._index[(shard, sample.name)]

    def _files(self, sample: Sample) -> tuple[bytes, bytes]:
        shard, index = self._where(sample)
        with self._lock:  # one reader per split, shared by the decode threads
            ds = self._datasets.get(shard)
            if ds is None:
                ds = self._datasets[shard] = _litdata().StreamingDataset(f"{self.url}/{shard}")
            item = ds[index]
        if str(item["name"]) != sample.name:
            raise DataError(f"{self.url}/{shard}: shard item {index} is {item['name']!r}, "
                            f"the manifest says {sample.name!r}")
        return bytes(item["image"]), bytes(item["mask"])

    def image_size(self, sample: Sample) -> tuple[int, int]:
        shard, _ = self._where(sample)
        return self._sizes[(shard, sample.name)]

    def check_header(self, sample: Sample) -> None:
        """Checked when the shards were written (write_shards): nothing to read here."""

    def read_image(self, sample: Sample) -> np.ndarray:
        return io.read_image(sample.image, self._files(sample)[0])

    def _raw_mask(self, sample: Sample) -> np.ndarray:
        return self._fmt.decode(io.read_index_mask(sample.mask, self._files(sample)[1]), self.schema, sample.mask)

    def read_pair(self, sample: Sample) -> tuple[np.ndarray, np.ndarray]:
        image_bytes, mask_bytes = self._files(sample)
        image = io.read_image(sample.image, image_bytes)
        mask = self._fmt.decode(io.read_index_mask(sample.mask, mask_bytes), self.schema, sample.mask)
        self._check_size(sample, mask.shape, image.shape[:2])
        return image, mask

    def hold_out(self, prefixes, from_split: str = "train", into: str = "holdout") -> "ShardSource":
        """As DataSource.hold_out; the held-out pairs are still read from `from_split`'s shards."""
        other = super().hold_out(prefixes, from_split, into)
        clone = ShardSource.__new__(ShardSource)
        clone.__dict__.update(self.__getstate__())
        clone._lock = threading.Lock()
        clone._splits = other._splits
        clone._shard_of = {**self._shard_of, **{(into, s.name): from_split for s in other.samples(into)}}
        return clone

    def write_mask(self, sample: Sample, mask: np.ndarray) -> Path:
        raise DataError(f"{self.url}: shards are read-only; correct the masks in the dataset they were "
                        "written from and write the shards again")


def open_shards(root: str | Path) -> ShardSource:
    root = str(root) if is_url(root) else str(Path(root).expanduser())
    return ShardSource(root, _read_manifest(root))
