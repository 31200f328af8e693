"""English language pack: VADER's lexicon plus a customer-experience lexicon and complaint phrase rules.

Why a supplement: VADER was built from general social-media text; it has no entry for the words people
use when a product or service fails them ("crashed", "outage", "refund", "unresponsive", "flimsy"), so
those complaints score 0. The entries below are on VADER's -4..4 scale and deliberately moderate: single
words that are only negative in context ("waiting", "down", "hold", "return", "cheap") are *not* here but
in :data:`RULES`, where the surrounding words make the reading unambiguous.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE, SentimentIntensityAnalyzer

from .engine import LangPack, rule

#: Customer-experience words VADER lacks (or under-weights). Overrides VADER where both have the word.
CX_LEXICON: dict[str, float] = {
    # failures and defects
    "crashed": -2.0, "crashes": -1.8, "crashing": -1.8, "outage": -2.2, "outages": -2.2,
    "malfunction": -2.0, "malfunctions": -2.0, "malfunctioning": -2.0, "glitch": -1.5, "glitches": -1.5,
    "glitchy": -1.8, "buggy": -1.8, "laggy": -1.6, "froze": -1.6, "freezes": -1.6, "freezing": -1.0,
    "overheats": -1.8, "overheating": -1.8, "defect": -1.8, "defects": -1.8, "flaw": -1.5,
    "flaws": -1.5, "flawed": -1.6, "drawback": -1.5, "drawbacks": -1.5, "downside": -1.3,
    "downsides": -1.3, "unreliable": -1.8, "unusable": -2.2, "unresponsive": -1.8, "inaccurate": -1.5,
    "inconsistent": -1.2, "unstable": -1.5, "bug": -1.2, "bugs": -1.2, "error": -1.7, "cracked": -1.6,
    "dented": -1.4, "scratched": -1.2, "flimsy": -1.8, "cheaply": -1.2, "fragile": -0.8, "clunky": -1.4,
    "cumbersome": -1.4, "tedious": -1.3, "grainy": -1.2, "fuzzy": -0.8, "distorted": -1.7, "sluggish": -1.7,
    "mediocre": -1.5, "subpar": -1.8, "shoddy": -2.2, "junk": -2.2, "garbage": -2.0, "rubbish": -2.0,
    "useless": -2.0, "worthless": -2.2, "nonexistent": -1.6, "non-existent": -1.6, "lacking": -1.2,
    "lacks": -1.0, "poorly": -1.8, "annoyance": -1.5, "annoyances": -1.5, "nuisance": -1.4, "hassle": -1.5,
    "headache": -1.4, "nightmare": -2.4, "disappointment": -2.0, "regret": -2.0, "regrets": -2.0,
    "unfortunately": -1.6, "complained": -1.4, "complain": -1.2, "overpriced": -1.8, "overcharged": -2.2,
    "ripoff": -2.6, "rip-off": -2.6, "scammed": -2.6, "fraudulent": -2.5, "unauthorized": -2.0,
    "unauthorised": -2.0, "breach": -2.2, "breached": -2.2, "hacked": -2.2, "leaked": -1.8,
    "compromised": -1.8, "recalled": -1.5, "unsafe": -2.0, "hazard": -1.8, "dangerous": -2.0,
    "rude": -2.2, "unhelpful": -2.0, "unprofessional": -2.0, "incompetent": -2.2, "ignored": -1.6,
    "refund": -1.3, "refunded": -0.8, "chargeback": -1.8, "cancelled": -1.2, "canceled": -1.2,
    "cancel": -1.2, "cancelling": -1.2, "delayed": -1.3, "delay": -1.2, "delays": -1.2,
    "unacceptable": -2.4, "ridiculous": -1.8, "pathetic": -2.4, "awful": -2.4, "horrible": -2.6,
    "terrible": -2.6, "disappointed": -2.2, "disappointing": -2.3, "frustrating": -2.1, "frustrated": -2.0,
    "died": -2.0, "dies": -1.8, "dead": -2.0, "broke": -1.8, "broken": -2.2, "faulty": -1.9,
    "fails": -1.9, "failed": -2.0, "failing": -1.8, "stopped": -1.2, "refused": -1.5, "refuses": -1.6,
    "wont": -0.3, "mistake": -1.6, "problem": -1.8, "problems": -1.8, "issue": -1.0, "issues": -1.2,
    "stuck": -1.2, "missing": -1.3, "waste": -2.0, "wasted": -2.2, "cons": -1.0, "paperweight": -2.0,
    "trash": -1.5, "bulky": -1.0, "detracts": -1.5, "expensive": -0.8, "pricey": -0.8, "cheap": -0.4,
    "noisy": -1.2, "skips": -1.2, "skipping": -1.2, "static": -0.8, "dim": -0.8, "blurry": -1.2,
    # product words VADER reads as sentiment ("plays discs", "supports mp3", "seems like")
    "play": 0.0, "plays": 0.0, "playing": 0.0, "support": 0.3, "supports": 0.3, "supported": 0.3,
}

#: Complaint patterns that need context. Regexes run on the lower-cased token stream.
RULES = (
    # waiting and delivery
    rule(r"still (?:waiting|no sign|not (?:arrived|received|here|delivered|fixed|resolved))", -2.3, "still waiting"),
    rule(r"(?:been )?waiting (?:for|on) (?:\w+ ){0,3}(?:\d+|two|three|four|several|weeks|days|hours|months|ages)\b", -2.0),
    rule(r"on hold (?:for )?", -1.8, "on hold"),
    rule(r"(?:never|hasn't|has not|haven't|have not|not yet) (?:arrived|received|showed up|shipped|delivered)", -2.2),
    rule(r"(?:\d+|two|three|four|several) (?:weeks|days|months) (?:now|later|late|and counting)", -1.6),
    rule(r"(?:arrived|came|delivered|showed up) (?:\w+ )?(?:late|damaged|broken|cracked|dead)", -2.0),
    # money
    rule(r"charged (?:me )?(?:twice|double|two times|again)", -2.5, "charged twice"),
    rule(r"double[- ]charged", -2.5),
    rule(r"(?:want|need|asked for|requesting|demand|get|got) (?:a |my )?(?:full )?(?:refund|money back)", -2.3, "refund"),
    rule(r"(?:not|isn't|is not|wasn't|was not|aren't) worth (?:it|the|a|\$|buying|your|my)", -2.3, "not worth", negatable=False),
    rule(r"(?:waste|wasted|waisted) (?:of )?(?:my |your |our )?(?:money|time|\$)", -2.6, "waste of money"),
    rule(r"save your (?:money|time)", -2.2, negatable=False),
    # things breaking
    rule(r"(?:stopped|stops|quit|quits) (?:working|charging|responding|playing|recognizing|reading)", -2.5, "stopped working"),
    rule(r"(?:doesn't|does not|didn't|did not|won't|will not|wouldn't|would not|don't|do not|can't|cannot|could not|couldn't|never|isn't|is not|wasn't|was not|aren't|not) (?:even )?(?:work|works|working|function|turn on|power on|charge|connect|load|play|read|recognize|recognise|boot|sync|respond|fit|last|hold)\b", -2.2, "does not work", negatable=False),
    rule(r"(?:broke|died|failed|cracked|fell apart|quit) (?:after|within|in)\b", -2.4, "broke after"),
    rule(r"(?:only )?lasted (?:about |only |just |less than |barely )?(?:\w+ )?(?:\d+|a|one|two|three|few|couple|several)", -2.2, "only lasted"),
    rule(r"(?:send|sent|sending|ship|shipped|take|took|bring|brought) (?:it|them|this|the \w+) back", -2.0, "sent it back"),
    rule(r"(?:returned|returning) (?:it|this|them|the)", -2.0, "returned it"),
    rule(r"(?:for|in for|needs?|needed) (?:a )?(?:repair|repairs|replacement)", -1.8, "needs repair"),
    rule(r"(?:is|was|are|were|went|goes|been) down\b", -1.8, "is down"),
    rule(r"(?:keeps?|kept) (?:\w+ing)", -1.4, "keeps ...ing", negatable=False),
    rule(r"(?:data|security|privacy) (?:breach|leak|leaks|incident)", -2.6),
    rule(r"(?:product )?recall\b", -1.5, "recall"),
    # service
    rule(r"(?:customer |tech |technical )?(?:service|support) (?:was|is|were|are) (?:\w+ )?(?:useless|rude|unhelpful|terrible|awful|a joke|nonexistent|non-existent)", -2.6, "bad support"),
    rule(r"no (?:one|body) (?:answers|answered|responds|responded|replies|replied|helps|helped|cares)", -2.4),
    rule(r"(?:never|no) (?:got |received )?(?:a )?(?:response|reply|answer|call back|callback)", -2.2),
    rule(r"never again", -2.8, negatable=False),
    rule(r"(?:never|won't|will not|wouldn't|would not) (?:buy|order|use|shop|fly|recommend|purchase) (?:\w+ )?(?:again|from|here|this|it|them|another)", -2.6, "never buy again", negatable=False),
    rule(r"(?:don't|do not|dont) (?:buy|bother|waste|purchase)\b", -2.6, "don't buy", negatable=False),
    rule(r"(?:stay away|steer clear|avoid) (?:from )?(?:this|it|them|these)", -2.4, negatable=False),
    rule(r"recommend against", -2.4, negatable=False),
    rule(r"(?:is|was|are|were) a joke", -2.2),
    rule(r"piece of (?:junk|crap|garbage|shit)", -3.0),
    rule(r"(?:i |we )?(?:want|wanted|going|decided) to cancel", -2.2, "cancel"),
    # wishes and shortfalls (reviews phrase most criticism this way)
    rule(r"(?:would|could|should|might) (?:have been|be) (?:much |a lot |far |even |so |way )?(?:nicer|better|easier|nice|great|good|helpful|useful|preferable)", -1.6, "would have been better", negatable=False),
    rule(r"(?:should have|shouldn't have|should've|could have been|could be)\b", -1.0, "should have", negatable=False),
    rule(r"wish (?:it|they|there|the|this)", -1.4, "wish it", negatable=False),
    rule(r"if only", -1.2, negatable=False),
    rule(r"(?:could|can) do better", -1.8, negatable=False),
    rule(r"the (?:only )?(?:problem|downside|drawback|catch|issue|con|complaint) (?:is|was)", -1.4, "the problem is"),
    rule(r"too (?:small|big|large|heavy|short|long|slow|expensive|loud|quiet|dim|bright|hard|difficult|complicated|bulky|thick|flimsy|hot|much)", -1.6, "too ..."),
    rule(r"(?:no|without) (?:way|option|ability) to", -1.4, negatable=False),
    rule(r"(?:has|have|had|with|there's|there is|there are) no (?!problem|problems|issue|issues|complaints?|trouble|doubt)", -1.0, "has no", negatable=False),
    rule(r"(?:doesn't|does not|didn't|did not) (?:have|support|come with|include|allow|let)", -1.4, "doesn't have", negatable=False),
    rule(r"(?:hard|difficult|impossible) to (?:use|read|see|find|hear|navigate|get|figure|understand|set)", -1.8, "hard to use"),
    rule(r"(?:takes?|took|taking) (?:forever|ages|too long)", -1.6, "takes forever"),
    rule(r"(?:still|just) (?:can't|cannot|couldn't|doesn't|won't|isn't|not)", -1.6, "still can't", negatable=False),
    rule(r"forget (?:it|about it)", -1.6, negatable=False),
    rule(r"prone to", -1.5),
    rule(r"(?:i|we|you|they) (?:had|have|will have|'ll have|'d have) to", -0.8, "had to"),
    rule(r"washed out", -1.4),
    rule(r"(?:calls?|connection|signal|wifi|wi-fi) (?:\w+ )?(?:drops?|dropped|dropping)", -1.8, "dropped calls"),
)


def _strip_accents(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def emoji_valences() -> dict[str, float]:
    """Emoji → valence, from VADER's emoji descriptions scored with its lexicon (computed once).

    VADER swaps each emoji for its English description before scoring; we fold that description into one
    valence per emoji so French text can use emoji too, and so the driver shows the emoji itself.
    """
    vader = _vader()
    out: dict[str, float] = {}
    for emoji, description in vader.emojis.items():
        words = [vader.lexicon.get(w.lower()) for w in description.split()]
        total = sum(w for w in words if w is not None)
        if total:
            out[emoji] = max(-3.0, min(3.0, total))
    return out


def split_emoji(text: str, emoji: dict[str, float]) -> str:
    """Surround known emoji with spaces so each is its own token."""
    if text.isascii():
        return text
    return "".join(f" {ch} " if ch in emoji else ch for ch in text)


@lru_cache(maxsize=1)
def pack() -> LangPack:
    """The English pack, built once per process (VADER's lexicon file is parsed here)."""
    emoji = emoji_valences()
    lexicon = {**_vader().lexicon, **emoji, **CX_LEXICON}
    return LangPack(
        code="en",
        lexicon=lexicon,
        negations=frozenset(NEGATE) | {"no longer", "hardly", "barely"},
        boosters=dict(BOOSTER_DICT),
        contrast=frozenset({"but"}),
        rules=RULES,
        prepare=lambda text: split_emoji(text, emoji),
    )
