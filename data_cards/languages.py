"""Language codes as the Hub indexes them: FLORES ``deu_Latn`` -> ``de``, ISO 639-3 -> 639-1 where one exists.

hub_language("deu_Latn") == "de";  hub_language("lzh_Hant") == "lzh"
"""

from __future__ import annotations

import re
from functools import lru_cache

_FLORES_CODE = re.compile(r"^([a-z]{2,3})(?:[_-][A-Z][a-z]{3})?$")


@lru_cache(maxsize=512)
def hub_language(code: str) -> str:
    """``deu_Latn`` / ``deu`` / ``de`` -> ``de``; a 639-3 code with no 639-1 form is kept (``lzh``)."""
    code = code.strip()
    m = _FLORES_CODE.match(code)
    if not m:
        return code.lower()
    base = m.group(1)
    if len(base) == 2:
        return base
    from lingua import IsoCode639_3, Language  # lingua's tables cover the 75 languages it detects

    try:
        lang = Language.from_iso_code_639_3(IsoCode639_3.from_str(base))
    except ValueError:
        return base
    return str(lang.iso_code_639_1.name.lower())
