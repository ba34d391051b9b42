"""Label names from other tools -> class ids of a roadseg schema.

Tools name their labels freely ("car", "Car", "CAR"), so names match the schema's class names
case-insensitively. The names tools use for "no class here" (labelme's `_background_` and
`__ignore__`, VOC's and CVAT's `background`, the schema's own void name) become void. Any other
name is an error naming the file and the label: a silently dropped class would train wrong.
"""
from __future__ import annotations

from pathlib import Path

from core.classes import CAMVID11, CITYSCAPES19, IGNORE_INDEX, ClassSchema, load_schema_yaml
from core.errors import DataError

VOID_NAMES = ("void", "background", "_background_", "__ignore__", "unlabeled", "unlabelled")

FROM_LABELS = "from-labels"  # --classes: a schema of the label names the import finds

# the --classes choices besides a file
PRESET_SCHEMAS = {"camvid": CAMVID11, "camvid11": CAMVID11,
                  "cityscapes": CITYSCAPES19, "cityscapes19": CITYSCAPES19}


def schema_from_arg(value: str | Path | ClassSchema | None) -> ClassSchema:
    """`camvid`, `cityscapes`, a classes YAML file (core.classes layout), labelme's labels.txt or
    CVAT's labelmap.txt; None: camvid."""
    if value is None:
        return CAMVID11
    if isinstance(value, ClassSchema):
        return value
    key = str(value).strip().lower()
    if key in PRESET_SCHEMAS:
        return PRESET_SCHEMAS[key]
    path = Path(value).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such class schema file (or use camvid, cityscapes or {FROM_LABELS})")
    if path.suffix.lower() == ".txt":
        from core.labelformats.class_lists import schema_from_txt
        return schema_from_txt(path)
    return load_schema_yaml(path)


class ClassMap:
    """Case-insensitive name -> train id (IGNORE_INDEX for void) for one schema."""

    def __init__(self, schema: ClassSchema):
        self.schema = schema
        self._ids = {n.lower(): i for i, n in enumerate(schema.names)}
        for void in (*VOID_NAMES, schema.void_name.lower()):
            self._ids.setdefault(void, IGNORE_INDEX)

    def id_of(self, name: str, path: Path, what: str = "label") -> int:
        """Train id for `name`; DataError naming the file and the label when the schema lacks it."""
        key = str(name).strip().lower()
        if key in self._ids:
            return self._ids[key]
        raise DataError(
            f"{path}: {what} {name!r} is not a class of schema {self.schema.name} "
            f"({', '.join(self.schema.names)}; void: {self.schema.void_name}); rename it or "
            "pass --classes with a schema that has it"
        )
