"""synthmix stage package: data_cards."""
