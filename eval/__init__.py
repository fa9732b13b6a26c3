"""synthmix stage package ``eval``: base k-shot vs fine-tuned conditions, with significance.

    synthmix eval --recipe recipes/sample.toml [--shots 3 | --adapter runs/... | --condition real]
    synthmix compare --recipe recipes/sample.toml          # -> reports/<recipe>/report.md

Modules:

- ``evaluate``: one condition on the recipe's test splits -> per-sample JSONL + scores.json (``run_eval``)
- ``compare``: the condition x seed matrix, paired tests of every pair, the report (``run_compare``)
- ``generation``: batched, left-padded greedy decoding with stop strings; output clean-up
- ``metrics``: BLEU/chrF/chrF++ (sacrebleu), exact match, token F1, perplexity, COMET, as per-sentence statistics
- ``significance``: vectorized paired bootstrap, approximate randomization, Holm, confidence intervals
- ``perplexity``: completion log-likelihoods (perplexity, multiple-choice scores)
- ``choice``: MMLU-style multiple choice, k-shot, accuracy per category
- ``judge``: LLM-as-judge through the synth client (versioned templates in ``eval/templates``)
- ``report``: report.md / report.html, bar chart with CIs, learning curves

See docs/evaluation.md.
"""
