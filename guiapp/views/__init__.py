"""The workbench tabs: one view per step of the workflow (dataset, train, experiments, evaluate, label)."""
