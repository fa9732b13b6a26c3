"""synthmix stage package: synth."""
