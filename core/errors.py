"""Errors a user can cause. Each carries a message that names the file or option at fault, so the
CLI prints one clear line and the GUI shows a dialog instead of a traceback."""


class RoadsegError(Exception):
    """Base of every error the user can fix (bad data, bad config, bad checkpoint)."""


class DataError(RoadsegError):
    """A dataset file or folder is missing, unreadable or inconsistent."""


class ConfigError(RoadsegError):
    """A configuration value is unknown or out of range."""


class ModelError(RoadsegError):
    """A model cannot be built as asked (unknown name, option, or weights unavailable offline)."""


class CheckpointError(RoadsegError):
    """A checkpoint file is missing, truncated or carries something other than tensors."""
