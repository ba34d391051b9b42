"""roadseg core engine: data, models, training and evaluation without any GUI toolkit."""

__version__ = "0.1.0"
