"""synthmix stage package: train."""
