"""synthmix stage package: ingest."""
