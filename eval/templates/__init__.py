"""Versioned LLM-judge prompts (``<name>@v<N>.txt``), shipped as package data; see eval.judge."""
