"""`roadseg train` flags generated from the registries, so a model option, loss, optimizer,
schedule or class weighting added to its registry appears here without editing the parser.

Model options: a bool that is off by default gets `--name` (sets it on), one that is on gets
`--no-name`; floats and choices take a value. Older names stay as hidden flags whose values
TrainConfig maps to the new option (with a DeprecationWarning).
"""
from __future__ import annotations

import argparse


def model_option_specs() -> dict:
    import core.models  # noqa: F401  (registers every architecture and its options)
    from core.models.registry import option_specs

    return option_specs()


def _owners(name: str) -> str:
    from core.models.registry import list_models, model_info

    return ", ".join(a for a in list_models() if name in model_info(a).options)


def add_model_option_flags(p: argparse.ArgumentParser) -> list[str]:
    """Add one flag per registered model option (and hidden ones for older names); returns
    the argparse dests, which are TrainConfig keys."""
    dests, taken = [], set()
    for spec in model_option_specs().values():
        turn_off = "turn off: " if spec.kind == "bool" and spec.default else ""
        help_text = f"{turn_off}{spec.help} ({_owners(spec.name) or 'no architecture'})"
        _add(p, spec, spec.flag, spec.name, help_text)
        dests.append(spec.name)
        taken.add(spec.flag)
    for spec in model_option_specs().values():
        for alias, flag in zip(spec.aliases, spec.alias_flags()):
            if flag not in taken:  # e.g. --no-skip already exists: TrainConfig maps it per arch
                _add(p, spec, flag, alias, argparse.SUPPRESS)
                dests.append(alias)
                taken.add(flag)
    return dests


def _add(p, spec, flag: str, dest: str, help_text: str) -> None:
    # every override defaults to None so that only flags given replace --config / --preset values
    if spec.kind == "bool":
        p.add_argument(flag, dest=dest, action="store_const", const=not spec.default, help=help_text)
    elif spec.kind == "float":
        p.add_argument(flag, dest=dest, type=float, help=help_text)
    else:
        universe = spec.universe or spec.choices
        kind = int if all(isinstance(c, int) for c in universe) else str
        p.add_argument(flag, dest=dest, type=kind, choices=universe, help=help_text)


def model_option_dests() -> list[str]:
    """The TrainConfig keys the model-option flags set (the parser's dests)."""
    return add_model_option_flags(argparse.ArgumentParser(add_help=False))


def registry_choices() -> dict[str, tuple[str, ...]]:
    """Names offered by the loss, optimizer, schedule, class-weighting and dataset-format
    registries, for `choices=` and help lines."""
    from core.data.formats import FORMATS
    from core.data.stats import weighting_specs
    from core.losses import LOSSES
    from core.optim import optimizer_specs, schedule_specs

    return {"loss": tuple(LOSSES), "optimizer": tuple(optimizer_specs()),
            "schedule": tuple(schedule_specs()), "class_weights": ("none", *weighting_specs()),
            "format": ("auto",) + tuple(FORMATS)}


def registry_help() -> dict[str, str]:
    """`name: help line` of each registered optimizer, schedule and class weighting, for the
    flags' --help text."""
    from core.data.stats import weighting_specs
    from core.optim import optimizer_specs, schedule_specs

    def lines(specs: dict, first: tuple[str, ...] = ()) -> str:
        text = "; ".join([*first, *(f"{s.name}: {s.help}" for s in specs.values())])
        return text.replace("%", "%%")  # argparse formats help with %

    return {"optimizer": lines(optimizer_specs()), "schedule": lines(schedule_specs()),
            "class_weights": lines(weighting_specs(), ("none: unweighted",))}
