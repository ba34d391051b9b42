"""Diagnostics that ask why a trained model scores what it does (per-class error anatomy, BatchNorm
re-estimation); run from the repository root as modules (`python -m research.class_errors --help`).
Kept apart from benchmarks/, which times things, because these measure accuracy of checkpoints."""
