"""A model option declared once, where the architecture that has it is registered.

An `Option` carries everything the other layers need to offer it: its name and type (bool ->
a checkbox and a `--flag`, float -> a spin box, choice -> a combo box), its default, a help line
and the older names it replaces. TrainConfig keys, CLI flags, the Train form's widgets,
summary.json and the runs table are all generated from these specs, so a new option of one
architecture is one `Option(...)` in that architecture's file. Options several architectures
share (dropout, output stride, normalisation, skip connections) are declared here once and
referenced by each builder. No torch import: the CLI parser and config loading use this.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

from core.errors import ModelError

KINDS = ("bool", "float", "choice")


@dataclass(frozen=True)
class Option:
    """One model option. `default` is what the network gets when nothing is set; with
    `arch_default` the config keeps None ("the architecture's own", the first of `choices`).
    `requires` names a bool option that must be on for this one to apply. `aliases` are older
    names still read from config files, keyword arguments and CLI flags, with a warning."""

    name: str
    kind: str
    default: object
    help: str
    label: str = ""
    choices: tuple = ()
    bounds: tuple[float, float] = (0.0, 1.0)  # float options: value in [low, high)
    arch_default: bool = False
    requires: str | None = None
    aliases: tuple[str, ...] = ()
    universe: tuple = ()  # every choice any architecture offers (set by `narrowed`)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name}: kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def config_default(self):
        """The value a TrainConfig holds when the option is not set."""
        return None if self.arch_default else self.default

    @property
    def flag(self) -> str:
        """The CLI flag: `--no-NAME` for a bool that is on by default, else `--NAME`."""
        dashed = self.name.replace("_", "-")
        return f"--no-{dashed}" if self.kind == "bool" and self.default else f"--{dashed}"

    def alias_flags(self) -> list[str]:
        """The flags of the older names, kept working (hidden from --help)."""
        on = self.kind == "bool" and self.default
        return [f"--no-{a.replace('_', '-')}" if on else f"--{a.replace('_', '-')}"
                for a in self.aliases]

    def narrowed(self, choices) -> "Option":
        """The same option limited to some choices; the first becomes the default."""
        choices = tuple(choices)
        return dataclasses.replace(self, choices=choices, default=choices[0],
                                   universe=self.universe or self.choices)

    def renamed(self, name: str, **changes) -> "Option":
        """A generic option under an architecture's own, clearer name (the old one an alias)."""
        return dataclasses.replace(self, name=name, aliases=(self.name,), **changes)

    def coerce(self, value, given_as: str | None = None):
        """`value` as this option's type, or ModelError naming the option and the bad value."""
        label = given_as or self.name
        if self.kind == "bool":
            return bool(value)
        if self.kind == "float":
            low, high = self.bounds
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ModelError(f"{label} must be a number in [{low:g}, {high:g}), got {value!r}") from None
            if not low <= number < high:
                raise ModelError(f"{label} must be in [{low:g}, {high:g}), got {value}")
            return number
        return self._coerce_choice(value, label)

    def _coerce_choice(self, value, label: str):
        """Numbers stay numbers, names are lower-cased; a name outside every architecture's
        choices is refused here, a value this architecture lacks by the registry."""
        universe = self.universe or self.choices
        if all(isinstance(c, int) for c in universe):
            try:
                return int(value)
            except (TypeError, ValueError):
                listed = ", ".join(str(c) for c in universe)
                raise ModelError(f"{label} must be one of {listed}, got {value!r}") from None
        out = str(value).lower()
        if out not in universe:
            raise ModelError(f"{label} must be one of {universe}, got {value!r}")
        return out


def warn_renamed(old: str, new: str, where: str = "") -> None:
    """One line saying which key replaced an old one (run folders on disk still use old keys)."""
    warnings.warn(f"{where}{old!r} is now called {new!r}; the old name still works but is "
                  "deprecated", DeprecationWarning, stacklevel=3)


# --- options shared by several architectures (declared once, referenced by each builder) ---
DROPOUT = Option("dropout", "float", 0.0, "dropout before the classifier, in [0, 1)",
                 label="Dropout")
OUTPUT_STRIDE = Option("output_stride", "choice", 32,
                       "encoder output stride: 32, or 16/8 for a dilated encoder",
                       label="Output stride", choices=(32, 16, 8), arch_default=True)
NORM = Option("norm", "choice", "batch", "decoder normalisation: batch, group, none",
              label="Normalization", choices=("batch", "group", "none"), arch_default=True)
SKIP = Option("skip", "bool", True,
              "keep the decoder's skip connections from the encoder's higher-resolution stages",
              label="Skip connections")

GENERIC = (DROPOUT, OUTPUT_STRIDE, SKIP, NORM)
