"""Errors users see. Each carries the exit code the CLI returns and a one-line message with the fix."""

from __future__ import annotations


class SynthmixError(Exception):
    """A user-facing failure: the CLI prints the message (no traceback) and exits with ``exit_code``."""

    exit_code = 1


class ConfigError(SynthmixError):
    """A recipe or flag is wrong; raised before any network, API or GPU spend. The message names the key."""

    exit_code = 2


class StageNotBuiltError(SynthmixError):
    """A command whose stage is not implemented yet."""

    exit_code = 3


class MissingRequirementError(SynthmixError):
    """Something outside synthmix is missing (network, API key, model); the message says how to proceed."""

    exit_code = 4
