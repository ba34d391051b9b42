"""Class schemas from the class lists other tools keep, or from the label names themselves.

- labelme's `labels.txt` (what labelme2voc reads): one name per line, `__ignore__` first (void),
  then `_background_` (class 0) and the rest; ids and colours as labelme2voc gives them
  (the VOC colour map, void drawn in VOC's boundary colour (224, 224, 192)).
- CVAT's / VOC's `labelmap.txt`: `name:r,g,b::` per line; `background` is void, in its colour.
- `from-labels`: the names found in the annotations, in the order first met, coloured from the
  VOC colour map, so an import needs no schema written by hand. The import writes whichever
  schema it used as the new dataset's `classes.yaml`.
"""
from __future__ import annotations

from pathlib import Path

from core.classes import IGNORE_INDEX, ClassSchema, Color
from core.errors import DataError
from core.labelformats import labelmap

VOC_VOID = (224, 224, 192)  # VOC colour map entry 255: the "ignore" colour of VOC and labelme2voc
IGNORE, BACKGROUND = "__ignore__", "_background_"


def voc_color(index: int) -> Color:
    """Entry `index` of the Pascal VOC colour map (what imgviz.label_colormap and VOC PNGs use)."""
    r = g = b = 0
    c = index
    for bit in range(7, -1, -1):
        r |= (c & 1) << bit
        g |= ((c >> 1) & 1) << bit
        b |= ((c >> 2) & 1) << bit
        c >>= 3
    return r, g, b


def _text_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason})") from None
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def _checked(path: Path, **kw) -> ClassSchema:
    try:
        return ClassSchema(**kw)
    except ValueError as e:
        raise DataError(f"{path}: {e}") from None


def schema_from_labels_txt(path: Path) -> ClassSchema:
    """labelme's labels.txt: class i is line i + 1 (after `__ignore__`), coloured VOC entry i."""
    names = _text_lines(path)
    if names and names[0] == IGNORE:
        names = names[1:]
    if IGNORE in names:
        raise DataError(f"{path}: {IGNORE} must be the first line (labelme2voc reads it as void)")
    if not names:
        raise DataError(f"{path}: no class names listed")
    return _checked(path, name=path.parent.name or "labels", names=names,
                    colors=[voc_color(i) for i in range(len(names))],
                    void_value=IGNORE_INDEX, void_name=IGNORE, void_color=VOC_VOID)


def schema_from_labelmap(path: Path) -> ClassSchema:
    """CVAT's labelmap.txt: every entry a class in its colour, `background` the void colour."""
    entries = labelmap.read_labelmap(path)
    void = [rgb for name, rgb in entries if name.lower() == "background"]
    classes = [(name, rgb) for name, rgb in entries if name.lower() != "background"]
    if not classes:
        raise DataError(f"{path}: lists only background, no classes")
    used = {rgb for _, rgb in classes}
    void_color = void[0] if void else next(c for c in ((0, 0, 0), VOC_VOID, (255, 255, 255)) if c not in used)
    return _checked(path, name=path.parent.name or "labelmap", names=[n for n, _ in classes],
                    colors=[rgb for _, rgb in classes], void_value=IGNORE_INDEX,
                    void_name="background", void_color=void_color)


def schema_from_txt(path: Path) -> ClassSchema:
    """A labelmap.txt (lines `name:r,g,b::`) or a labelme labels.txt (one name per line)."""
    lines = _text_lines(path)
    if any(":" in ln for ln in lines):
        return schema_from_labelmap(path)
    return schema_from_labels_txt(path)


def schema_from_names(names: list[str], source: Path) -> ClassSchema:
    """A schema of the label names an import found (void names dropped, first spelling kept)."""
    from core.labelformats.classmap import VOID_NAMES

    seen: dict[str, str] = {}
    for n in names:
        key = n.strip().lower()
        if key and key not in VOID_NAMES:
            seen.setdefault(key, n.strip())
    if not seen:
        raise DataError(f"{source}: no class labels found (only void names such as "
                        f"{', '.join(VOID_NAMES[:3])}); pass --classes with a schema")
    if len(seen) >= IGNORE_INDEX:
        raise DataError(f"{source}: {len(seen)} different labels; at most {IGNORE_INDEX - 1} classes are supported")
    return ClassSchema(name=source.stem if source.is_file() else source.name or "imported",
                       names=list(seen.values()),
                       colors=[voc_color(i + 1) for i in range(len(seen))],
                       void_value=IGNORE_INDEX, void_name="void", void_color=(0, 0, 0))
