"""synthmix stage package: curate. What the model learns from, decided and explained record by record.

    synthmix curate --recipe recipes/sample.toml     # curate.stage.run_curate
    synthmix mix --recipe recipes/sample.toml        # curate.mixing.build_mixes

Modules: ``stage`` (the joint run over every source, outputs and funnel), ``normalize``, ``dedup`` (exact
and MinHash/LSH near dedup), ``langid``, ``quality`` (heuristic filters), ``decontam``, ``funnel``,
``executors`` (in process or Ray Data), ``mixing``, and ``relevance`` (the question relevance gate).
See docs/curate.md.
"""
