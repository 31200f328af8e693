"""Static word vectors: what words mean, for the learned layer, without running an encoder at score time.

Built by :mod:`monitor.analyse.sentiment.distil` (English: distilled from the sentence encoder all-MiniLM-L6-v2,
Apache-2.0; French: Explosion's fastText vectors, CC0, reduced), shipped as ``data/vectors_<lang>.npz``: the
words (UTF-8, newline-separated), an int8 matrix (one row per word) and one float scale per dimension. A
language without a file has no vectors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["ELISION", "VECTORS", "WordVectors", "unelided", "vectors"]

#: The shipped file of a language, relative to the package.
VECTORS = "data/vectors_{lang}.npz"
#: Elided words a language glues to the next one ("l'appli", "d'hameçonnage"): the tokens keep them whole, so
#: a form the file lacks reads as the word behind the apostrophe (the file holds the training words' forms). Only
#: :meth:`WordVectors.rows_of` and :meth:`WordVectors.mean` read them so: the verdict layer's per-word push looks
#: words up as they are (French feeds its vectors to the issue model only, ``train.ISSUE_ONLY_VECTORS``).
ELISION = {"fr": re.compile(r"(?:l|d|j|n|m|t|s|c|qu|jusqu|lorsqu|puisqu)['’](?=\w)")}


def unelided(word: str, elision: re.Pattern[str] = ELISION["fr"]) -> str:
    """The word without a leading elision ("l'appli" -> "appli"); the word itself when it has none."""
    m = elision.match(word)
    return word[m.end():] if m else word


class WordVectors:
    """Static word vectors (distilled from a sentence encoder, or reduced from fastText: see
    :mod:`monitor.analyse.sentiment.distil`), so the learned layer knows words no training line used
    ("stranded" near "stuck", "overcharged" near "billed twice") without running the encoder: int8, one row per
    word, a scale per dimension."""

    def __init__(self, words: Sequence[str], rows: Any, scale: Any, elision: re.Pattern[str] | None = None) -> None:
        import numpy as np

        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.rows = np.asarray(rows, dtype=np.int8)      # kept int8: a float copy would be four times the memory
        self.scale = np.asarray(scale, dtype=np.float32)
        self.dims = int(self.rows.shape[1])
        self.elision = elision
        if self.rows.shape[0] != len(self.words) or self.scale.shape != (self.dims,):
            raise ValueError(f"{len(self.words)} words, {self.rows.shape[0]} rows, {self.scale.shape[0]} scales")

    def key(self, tok: str) -> str | None:
        """The word of the file ``tok`` reads as: itself, or the word behind an elision; None when unknown."""
        if tok in self.index:
            return tok
        if self.elision is not None and ("'" in tok or "’" in tok) and (stem := unelided(tok, self.elision)) in self.index:
            return stem
        return None

    def rows_of(self, toks: Sequence[str]) -> list[int]:
        """The rows of the known words among ``toks``."""
        index = self.index
        if self.elision is None:
            return [index[t] for t in toks if t in index]
        return [index[k] for t in toks if (k := self.key(t)) is not None]

    def mean(self, toks: Sequence[str]) -> list[float]:
        """The mean vector of the known words (zeros when none is known): the training feature."""
        rows = self.rows_of(toks)
        if not rows:
            return [0.0] * self.dims
        return [float(x) for x in self.rows[rows].astype("float32").mean(axis=0) * self.scale]

    def project(self, weights: Any) -> Any:
        """Each word's vector times ``weights`` (dims, or dims × k): one number (or k) per word."""
        import numpy as np

        w = np.asarray(weights, dtype=np.float32)
        if w.shape[0] != self.dims:
            raise ValueError(f"{w.shape[0]} embedding weights for {self.dims}-dimensional vectors")
        scaled = w * (self.scale if w.ndim == 1 else self.scale[:, None])
        return self.rows.astype(np.float32) @ scaled

    def word_scores(self, weights: Sequence[float]) -> dict[str, float]:
        """word -> its vector times ``weights``: a linear weight on a mean vector, folded into one number a word."""
        return dict(zip(self.words, self.project(weights).tolist(), strict=True))

    @classmethod
    def read(cls, source: Any, elision: re.Pattern[str] | None = None) -> WordVectors:
        import numpy as np

        with np.load(source, allow_pickle=False) as doc:
            words = bytes(doc["words"]).decode("utf-8").split("\n")
            return cls(words, doc["q"], doc["scale"], elision)


@cache
def vectors(lang: str) -> WordVectors | None:
    """The shipped word vectors of ``lang``, or None when the language has none."""
    ref = resources.files("monitor.analyse.sentiment").joinpath(VECTORS.format(lang=lang))
    if not ref.is_file():
        return None
    with ref.open("rb") as fh:
        return WordVectors.read(fh, ELISION.get(lang))
