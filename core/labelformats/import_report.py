"""What an import did besides writing images: shapes clipped at the border, shapes skipped.

Annotation tools write shapes that poke past the image (a trace along the edge ends at
y = 375.77 on a 375-row image) and, now and then, shapes that cover nothing (two clicks, or a
polygon dragged off the image). Those are drawn clipped or skipped rather than refusing the whole
import, and the person is told once, in one line, what was clipped and skipped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

NAMED = 3  # skipped shapes named in the summary line before "..."


@dataclass
class ImportReport:
    images: int = 0
    clipped: list[str] = field(default_factory=list)  # "file: shape 4 (polygon 'chair')"
    skipped: list[str] = field(default_factory=list)  # "file: shape 5 (polygon 'car'): why"
    no_area: int = 0  # point / line shapes: they label no pixels

    def summary(self) -> str:
        """One line: images written, shapes clipped, shapes skipped (the first few named)."""
        parts = [f"{self.images} image{'s' * (self.images != 1)} written",
                 f"{len(self.clipped)} shape{'s' * (len(self.clipped) != 1)} clipped at the image border"]
        if self.skipped:
            named = "; ".join(self.skipped[:NAMED]) + ("; ..." if len(self.skipped) > NAMED else "")
            parts.append(f"{len(self.skipped)} skipped ({named})")
        else:
            parts.append("0 skipped")
        if self.no_area:
            parts.append(f"{self.no_area} point/line shape{'s' * (self.no_area != 1)} without area not drawn")
        return ", ".join(parts)
