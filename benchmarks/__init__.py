"""Timing scripts, one `bench_*.py` per question, run from the repository root as modules
(`python -m benchmarks.bench_train --help`); their numbers go to benchmarks/RESULTS.md."""
