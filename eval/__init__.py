"""synthmix stage package: eval."""
