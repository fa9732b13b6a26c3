"""synth: LLM-driven generators for translation pairs, passage QA and instructions (docs/synth.md).

    synthmix synth --recipe recipes/sample.toml

Modules: ``stage`` (entry point ``run_synth``), ``runner`` (one job: cache, concurrency, retries, budget),
``client`` (Groq / OpenAI-compatible / transformers / recorded backends behind one interface), ``cache``
(SQLite response cache), ``ratelimit`` (token buckets), ``template`` + ``templates/`` (versioned prompts),
``parsing`` (strict JSON validation), ``generator`` + ``translation`` / ``qa`` / ``instruction``.
"""
