"""Frozen, validated config dataclasses for every recipe section, and the parser that builds them.

Each stage's section lives in its own module (``sources``, ``synth``, ``curate``, ``train``, ``evaluate``);
``synthmix.recipe`` composes them into one ``Recipe``.
"""
