"""synthmix stage package: ingest. Real sources -> records (``synthmix ingest --recipe ...``).

    stage.py       run_ingest: every [sources.*] of a recipe -> data/<recipe>/ingest/<name>/
    wikipedia.py   Wikipedia source: pages by title/search/category or saved HTML -> attributed passages
    mediawiki.py   polite MediaWiki Action API client (User-Agent, maxlag, retries, rate limit)
    http_cache.py  on-disk SQLite HTTP cache: a rerun fetches nothing twice
    cleaner.py     article HTML -> prose by section (no infoboxes, tables, references, navboxes...)
    sentences.py   offline Punkt sentence splitting (de/fr/en and 16 more) and passage building
    hub.py         Hugging Face datasets with presets (FLORES+, Samanantar, Guanaco, Alpaca)
    files.py       local tsv/csv/jsonl/parquet
    mapping.py     table rows -> records through the recipe's column mapping
    splits.py      seeded, recorded samples and train/dev/test splits

docs/sources.md describes every source type and its recipe keys.
"""
