"""synthmix stage package: curate."""
