"""A small logistic-regression layer on top of the English rule engine.

Why: the lexicon and phrase rules catch explicit complaints, but review snippets mostly criticise in
plain words ("the menu options appear one at a time", "I had to re-open the drawer"). A linear model over
the engine's own valence sums plus word unigrams/bigrams learns how much such wording shifts the verdict.
It stays small (a JSON dict of weights, well under 5 MB), loads offline, is deterministic, and costs one
dict lookup per token. ``python -m monitor.sentiment.train`` rebuilds it from the dev set and reports
cross-validated (held-out fold) figures; the weights are shipped in ``data/model_en.json``.

Only English uses it: there is no French training data, so French keeps the pure rule engine.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .engine import Contribution

_WORD = re.compile(r"[a-z0-9']+|[!?]")

#: Raw valence (VADER scale) that ``normalize`` maps to about -0.05, the default threshold; the model's
#: 50 % point is placed there so ``Scorer(threshold=-0.05)`` means "more likely negative than not".
BOUNDARY_VALENCE = -0.194
#: Logit at which a text is called negative. Below 0 because negatives are the minority class (25-33 %)
#: and missing a complaint costs more than a second look; chosen on held-out folds, not in-sample.
DECISION_LOGIT = -0.5
#: Raw valence per unit of logit: makes confident verdicts land near VADER-like magnitudes.
VALENCE_PER_LOGIT = 1.2


def dense_features(total: float, contributions: Iterable[Contribution]) -> dict[str, float]:
    """Features summarising the rule engine's output (scaled to roughly -1..1)."""
    neg = pos = rules = 0.0
    for c in contributions:
        if c.kind in ("rule",):
            rules += c.valence
        if c.valence < 0:
            neg += c.valence
        else:
            pos += c.valence
    return {
        "d:total": total / 4.0,
        "d:neg": neg / 4.0,
        "d:pos": pos / 4.0,
        "d:rules": rules / 4.0,
        "d:compound": total / math.sqrt(total * total + 15.0),
        "d:neg_flag": 1.0 if total <= -0.194 else 0.0,
        "d:pos_flag": 1.0 if total >= 0.194 else 0.0,
    }


def token_features(text: str) -> list[str]:
    """Lower-cased unigrams and bigrams; URLs and @handles removed (they only identify individual posts)."""
    words = _WORD.findall(re.sub(r"https?://\S+|@\w+", " ", text.lower()))
    feats = [f"u:{w}" for w in words]
    feats += [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    return feats


@dataclass(frozen=True)
class LinearModel:
    """Weights by feature name plus intercept; ``logit`` > 0 means "negative" is more likely."""

    weights: Mapping[str, float]
    bias: float

    def logit(self, dense: Mapping[str, float], tokens: Iterable[str], skip: frozenset[str] = frozenset()) -> float:
        w = self.weights
        z = self.bias + sum(w.get(k, 0.0) * v for k, v in dense.items())
        return z + sum(w.get(t, 0.0) for t in tokens if t[2:] not in skip)

    def top_tokens(self, tokens: Iterable[str], k: int = 3) -> list[tuple[str, float]]:
        """The tokens that pushed the logit most, as (text, raw-valence weight), strongest first."""
        seen = {t: self.weights.get(t, 0.0) for t in tokens}
        ranked = sorted(((t[2:], -v * VALENCE_PER_LOGIT) for t, v in seen.items() if v), key=lambda x: -abs(x[1]))
        return ranked[:k]

    def to_json(self) -> str:
        data = {"bias": self.bias, "weights": {k: round(v, 4) for k, v in sorted(self.weights.items())}}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def logit_to_valence(z: float) -> float:
    """Map a logit to the raw valence scale the engine's ``normalize`` expects."""
    return BOUNDARY_VALENCE - VALENCE_PER_LOGIT * (z - DECISION_LOGIT)


@lru_cache(maxsize=1)
def load_model() -> LinearModel | None:
    """The shipped English model, or None if the data file is missing (rules-only scoring)."""
    try:
        raw = resources.files("monitor.sentiment").joinpath("data/model_en.json").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    data = json.loads(raw)
    return LinearModel(weights=data["weights"], bias=float(data["bias"]))
