"""Which variant of the learned layer a language ships, from out-of-fold figures (:class:`Fold`).

Kept apart from fitting (:mod:`monitor.analyse.sentiment.train`) because it is the project's policy, not
statistics: the most cautious variant that beats the rules, a bolder one only past the 2-fold noise, never one
that costs the general-sentiment dev set, and the customer-context gate only when it earns its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from monitor.analyse.sentiment import learned

__all__ = ["DEV_TOLERANCE", "GATE_DEV_TOLERANCE", "GATE_OPTIONS", "INCUMBENT_DEV_NOISE", "MEASURED_GATE_THRESHOLD",
           "MEASURED_VARIANTS", "SCOPE_MARGIN", "SHIPPED_SCOPES", "Fold", "carry_policy", "gated", "measured_choice",
           "prf", "shipped_variant"]


def prf(gold: Sequence[bool], predicted: Sequence[bool]) -> tuple[float, float, float]:
    """Precision, recall and F1 of the negative class (True): every choice here compares these."""
    tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g and p)
    fp = sum(1 for g, p in zip(gold, predicted, strict=True) if p and not g)
    fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


#: A learned layer may not cost the general-sentiment dev set any F1 out of fold (0.005 until round 5: with the
#: round-5 everyday tweets in training, the layer that tolerance let through cost the whole dev tweets 0.003).
DEV_TOLERANCE = 0.0
#: The variants a language may ship, most cautious first. "silent" decides only what the rules are silent on
#: (or weak about): where they found sentiment they keep the verdict ("je n'aime pas ce produit" stays
#: negative). "all" (the layer gives every verdict) comes last: in round 4, with ~100 training lines a language,
#: it overruled the rules' grammar (a French model read "pas" as praise); with ~1,000 it beat every "silent"
#: variant by more than the margin for de, nl and pt out of fold, and the regression cases hold.
#: ``monitor train`` fits "all" on a deployment's own labels and keeps it only if it beats the model in use.
SHIPPED_SCOPES = tuple(f"silent@{p}~{r}^{v}" for v in learned.VETO_CHOICES for r in learned.REACH_CHOICES
                       for p in reversed(learned.MIN_P_CHOICES)) + ("all",)   # a higher min_p is more cautious
#: A bolder variant is chosen over a more cautious one only when it does better on the mentions by more than
#: this (2-fold noise).
SCOPE_MARGIN = 0.01
#: How much worse on the dev set (F1 out of fold) the variant already shipped may be than a new choice and still
#: stay (:meth:`Fold.scope`): a tenth of SCOPE_MARGIN, the dev set being ~6,000 texts against ~1,500 mentions.
INCUMBENT_DEV_NOISE = 0.001
#: The customer-context gate's options, most cautious first: (P(customer context) from which the bold variant
#: decides, that variant). Only 0.95: at 0.9 and 0.8 (mentions out of fold 0.838, 0.847 against 0.828) the dev
#: set's whole tweets corpus fell to 0.884, under plain VADER's 0.885, which the scorer must never be. Offered
#: again on round 7's data, neither would have shipped (0.9: +0.010, within the noise; 0.8: dev cost 0.008); on
#: round 8's, 0.9 cost the dev set 0.003 and gained 0.010, 0.8 cost it 0.009. Also measured in round 8 and not
#: shipped: a bold variant with weights of its own, the customer side of a fit with a copy of every feature per
#: kind of row (Daumé III 2007): with the rule figures copied too it found more (0.843 against 0.835) but read
#: "Acme kettle checkout ... is terrible, awful and broken" as no complaint (its customer copy of the lexicon
#: sum learned that hard negatives carry such words); with them shared, 0.840 against 0.835 and the check sets
#: the same line for line: no gain for a second set of 14,000 weights.
GATE_OPTIONS: tuple[tuple[float, str], ...] = ((0.95, "all"),)
#: Languages whose base variant is fixed by measurement on real tweets (round 16), not chosen out of fold: their
#: general side is everyday posts written for the project (:func:`train.general_examples`), on which the layer on
#: every text beats the rules out of fold (German 0.618 -> 0.755), while on real tweets the same layer read everyday
#: talk as complaints (French tweets: P 0.51 with it against 0.81 by the rules alone). So the layer keeps the
#: cautious base (it decides only where the rules are silent or weak, from P 0.7) unless the customer-context gate,
#: fitted on the mentions against those posts, reads the text as a customer's: there it decides everything. The
#: gate's threshold is MEASURED_GATE_THRESHOLD (:meth:`Fold.measured_gate`). Chosen on the train splits of the UMSAB
#: tweets, against "all" fitted on the same rows, with the gate at 0.8 (French DEFT 2017 0.619 -> 0.685, German
#: SB-10k 0.572 -> 0.598, Italian SENTIPOLC 2016 0.515 -> 0.532, Portuguese TweetSentBR 0.566 -> 0.601) and
#: measured on their test splits; Spanish (0.585 -> 0.575) and Dutch (no tweets to choose on; bol.com reviews
#: 0.802 -> 0.793) keep the choice out of fold.
MEASURED_VARIANTS: dict[str, str] = {lang: "silent@0.7~0.35^0.0" for lang in ("de", "fr", "it", "pt")}
#: The gate's threshold for a measured variant: the bold variant decides only where the gate is this sure of customer
#: context. Until round 20 the threshold was chosen out of fold, the most cautious within SCOPE_MARGIN of "all" on
#: the writers' mentions (round 20: de 0.8, fr 0.7, it 0.7, pt 0.9); on real tweets and reviews those lower
#: thresholds sent everyday talk to the bold variant. Measured in round 21 on the choose halves (the UMSAB train
#: splits, GermEval dev, the even lines of Allocine, Amazon.fr and Babelio), 0.95 against the out-of-fold choice:
#: French tweets 0.719 -> 0.748, Allocine 0.797 -> 0.802, Babelio 0.234 -> 0.239, Amazon.fr 0.772 -> 0.772; German
#: tweets 0.632 -> 0.636, GermEval 0.503 -> 0.513; Italian 0.609 -> 0.623; Portuguese 0.638 -> 0.640. (0.98 moved
#: each within 0.007 either way; no gate at all cost Amazon.fr 0.09 and Allocine 0.02.) English's gate is 0.95 too.
MEASURED_GATE_THRESHOLD = 0.95
#: What the gate may cost the general-sentiment dev set out of fold. Not 0 like DEV_TOLERANCE: the gate sends
#: only the few general texts that read like customer mentions to the bold variant, which on the mentions it
#: serves finds complaints the cautious one misses; this bounds the price on general sentiment.
GATE_DEV_TOLERANCE = 0.005


@dataclass(frozen=True)
class Fold:
    """Out-of-fold figures for one language. F1 of the negative class on the customer mentions and on the
    dev set's general sentiment (English only), by the rules, the layer on every text ("all") and the layer
    only where the rules are silent ("silent"); issue-type accuracy on typed complaints, rules vs model."""

    mentions: dict[str, float]
    dev: dict[str, float]
    issue_rules: float
    issue_learned: float
    typed: int
    #: "<base>|<threshold>|<bold>" -> {"mentions" | "dev" | "dev/<corpus>": F1} with the customer-context gate on
    #: top of ``base``
    gated: dict[str, dict[str, float]] = field(default_factory=dict)
    #: The dev set's figures per corpus ("tweets", "amazon"), like ``dev``: reported (training prints them and the
    #: model file keeps them), not a condition. Pooled, a gain on the Amazon snippets pays for a loss on the general
    #: tweets (round 12, out of fold on round 11's lines: the English variant took the snippets 0.728 -> 0.755 and
    #: cost the tweets 0.905 -> 0.899); but every variant that finds customer complaints costs the tweets 0.01-0.04,
    #: and with each corpus held to the rules the English mentions fell from 0.849 to 0.751 (no gate could ship;
    #: the yardstick's English 86% -> 73%) or, with a cautious bold variant offered to the gate, to 0.806, for
    #: +0.003 on the tweets' check half.
    corpora: dict[str, dict[str, float]] = field(default_factory=dict)

    def gate(self, base: str) -> tuple[float, str] | None:
        """(threshold, bold variant) for the gate over ``base``: better on the mentions than ``base`` alone by more
        than SCOPE_MARGIN and costing the dev set at most GATE_DEV_TOLERANCE; the highest threshold unless a
        lower one beats it by more than the margin; else None."""
        best: tuple[float, str] | None = None
        best_f1 = self.mentions.get(base, 0.0) + SCOPE_MARGIN
        for threshold, bold in GATE_OPTIONS:
            figures = self.gated.get(f"{base}|{threshold}|{bold}", {})
            if self.dev and figures.get("dev", 0.0) < self.dev["rules"] - GATE_DEV_TOLERANCE:
                continue
            f1 = figures.get("mentions", 0.0)
            if f1 > best_f1:
                best, best_f1 = (threshold, bold), f1 + SCOPE_MARGIN
        return best

    def measured_gate(self, base: str) -> tuple[float, str] | None:
        """(MEASURED_GATE_THRESHOLD, "all") for the gate over a measured base (:data:`MEASURED_VARIANTS`) when out of
        fold it finds more complaints in the mentions than the base alone; else None."""
        f1 = self.gated.get(f"{base}|{MEASURED_GATE_THRESHOLD}|all", {}).get("mentions")
        if f1 is not None and f1 > self.mentions.get(base, 0.0):
            return MEASURED_GATE_THRESHOLD, "all"
        return None

    def scope(self, incumbent: str | None = None) -> str | None:
        """The variant to ship ("silent@0.6~0.0^0.0": min_p, reach, veto; or "all"): better on the mentions and no worse than
        DEV_TOLERANCE on the dev set; among those the best on the mentions, the most cautious unless a bolder
        one beats it by more than SCOPE_MARGIN; else None. Where there is a dev set (English), the variant within
        SCOPE_MARGIN of that choice on the mentions that is best on the dev set: a gain on the mentions inside the
        2-fold noise does not buy a loss on general sentiment (round 10: min_p 0.6 chose over 0.65 by 0.005 on the
        mentions, and cost the dev set's whole tweets corpus 0.001, under plain VADER's F1).

        ``incumbent`` (the variant the model being replaced ships) stays while it still qualifies and is within the
        noise of that choice: within SCOPE_MARGIN on the mentions and INCUMBENT_DEV_NOISE on the dev set. Without
        it the choice moved with noise: in round 14 two emoji fixed in the lexicon moved English from min_p 0.6 to
        0.65 and reach 0.35 to 0.5 (the dev set's best by 0.0005), and every real set lost 0.001-0.003."""
        best: str | None = None
        fit = [scope for scope in SHIPPED_SCOPES if self.mentions.get(scope, 0.0) > self.mentions.get("rules", 0.0)
               and not (self.dev and self.dev[scope] < self.dev["rules"] - DEV_TOLERANCE)]
        for scope in fit:
            if best is None or self.mentions[scope] > self.mentions[best] + SCOPE_MARGIN:
                best = scope     # listed from the most cautious reach: a bolder one must beat it by more than noise
        if best is not None and self.dev:
            near = [scope for scope in fit if self.mentions[scope] >= self.mentions[best] - SCOPE_MARGIN]
            best = max(near, key=lambda scope: (self.dev[scope], scope == best))
        if best is not None and incumbent in fit and incumbent != best \
                and self.mentions[incumbent] >= self.mentions[best] - SCOPE_MARGIN \
                and not (self.dev and self.dev[incumbent] < self.dev[best] - INCUMBENT_DEV_NOISE):
            return incumbent
        return best


def measured_choice(lang: str, fold: Fold) -> str | None:
    """The base :data:`MEASURED_VARIANTS` fixes for ``lang``, while it beats the rules on the mentions out of fold
    and the gate over it earns its place (else None: :meth:`Fold.scope` decides)."""
    fixed = MEASURED_VARIANTS.get(lang)
    if fixed is None or fold.mentions.get(fixed, 0.0) <= fold.mentions.get("rules", 0.0) \
            or fold.measured_gate(fixed) is None:
        return None
    return fixed


def shipped_variant(m: learned.LangModel, fold: Fold, key: str, lang: str = "") -> learned.LangModel:
    """The variant ``key``, with the customer-context gate when out of fold it earns its place (or, for a language
    of :data:`MEASURED_VARIANTS` shipping its fixed base, the gate measured for it)."""
    measured = MEASURED_VARIANTS.get(lang) == key
    chosen = (fold.measured_gate(key) if measured else fold.gate(key)) if m.gate is not None else None
    gate = replace(m.gate, threshold=chosen[0], variant=chosen[1]) if m.gate is not None and chosen else None
    return replace(learned.variant(m, key), gate=gate)


def gated(verdicts: dict[str, dict[str, list[bool]]],
           gate_p: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """F1 on each domain ("mentions", "dev", "dev/<corpus>") of every base variant with the gate on top
    (GATE_OPTIONS), from the verdicts already collected: where the gate's P reaches the threshold the bold
    variant's verdict counts."""
    names = [d for d in verdicts if verdicts[d]]
    if "mentions" not in names or any(len(gate_p.get(d, ())) != len(verdicts[d]["gold"]) for d in names):
        return {}
    out: dict[str, dict[str, float]] = {}
    options = dict.fromkeys([*GATE_OPTIONS, (MEASURED_GATE_THRESHOLD, "all")])
    for base in SHIPPED_SCOPES:
        for threshold, bold in options:
            f1 = {d: prf(verdicts[d]["gold"], [b if p >= threshold else c for c, b, p in
                                               zip(verdicts[d][base], verdicts[d][bold], gate_p[d], strict=True)])[2]
                  for d in names}
            out[f"{base}|{threshold}|{bold}"] = f1
    return out


def variant_key(m: learned.LangModel) -> str:
    """The name :func:`learned.variant` reads back: "all" or "silent@<min_p>~<reach>^<veto>"."""
    return "all" if m.scope == "all" else f"silent@{m.min_p}~{m.reach}^{m.veto}"


def carry_policy(refit: learned.Model, shipped: learned.Model) -> learned.Model:
    """A deployment's refit (``monitor train``) under the variants ``shipped`` chose out of fold.

    Why: a refit on the shipped rows plus a few hundred of the deployment's labels is too small a change to choose
    variants again (the choice needs a cross-validation of minutes, and the labels are customer mentions only, so
    nothing would guard general sentiment), and :func:`train.fit` alone gives every language scope "all": for
    English that is the variant that costs general tweets 0.055 F1 out of fold. So each language keeps the shipped
    scope, min_p, reach, veto and gate threshold, and an issue model only where one shipped; a language the shipped
    model has no layer for keeps the refit as fitted (its labels are all the evidence there is), and the held-out
    comparison of ``monitor train`` still decides whether the whole refit is kept."""
    languages: dict[str, learned.LangModel] = {}
    for code, m in refit.languages.items():
        old = shipped.languages.get(code)
        if old is None:
            languages[code] = m
            continue
        gate = replace(m.gate, threshold=old.gate.threshold, variant=old.gate.variant) \
            if m.gate is not None and old.gate is not None else None
        languages[code] = replace(learned.variant(m, variant_key(old)), gate=gate)
    issues = {code: im for code, im in refit.issues.items()
              if code in shipped.issues or code not in shipped.languages}
    return learned.Model(languages, refit.meta, issues)
