"""English language pack: VADER's lexicon plus a customer-experience lexicon and complaint phrase rules.

Why a supplement: VADER was built from general social-media text; it has no entry for the words people
use when a product or service fails them ("crashed", "outage", "refund", "unresponsive", "flimsy"), so
those complaints score 0. The entries below are on VADER's -4..4 scale and deliberately moderate: single
words that are only negative in context ("waiting", "down", "hold", "return", "cheap", "wish") are *not*
here but in :data:`RULES`, where the surrounding words make the reading unambiguous.

Every entry is a general pattern of complaints (or a general VADER misreading of product text), never a
line of the evaluation set: a held-out set decides whether it generalises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE, SentimentIntensityAnalyzer

from monitor.analyse.sentiment.engine import LangPack, rule
from monitor.analyse.sentiment.frames import anything_but, asking, frame_rules, irony, irrealis
from monitor.analyse.sentiment.topics import drop_topics

#: Customer-experience words VADER lacks (or under-weights). Overrides VADER where both have the word.
CX_LEXICON: dict[str, float] = {
    # failures and defects
    "crashed": -2.0, "crashes": -1.8, "crashing": -1.8, "outage": -2.2, "outages": -2.2,
    "malfunction": -2.0, "malfunctions": -2.0, "malfunctioning": -2.0, "malfunctioned": -2.0,
    "glitch": -1.5, "glitches": -1.5, "glitchy": -1.8, "buggy": -1.8, "laggy": -1.6, "lag": -1.0,
    "lags": -1.2, "froze": -1.6, "freezes": -1.6, "freezing": -1.0, "frozen": -0.8,
    "overheats": -1.8, "overheating": -1.8, "overheated": -1.8, "defect": -1.8, "defects": -1.8,
    "defective": -2.2, "flaw": -1.5, "flaws": -1.5, "flawed": -1.6, "drawback": -1.5, "drawbacks": -1.5,
    "downside": -1.3, "downsides": -1.3, "shortcoming": -1.6, "shortcomings": -1.6, "quibble": -1.0,
    "quibbles": -1.0, "gripe": -1.4, "gripes": -1.4, "unreliable": -1.8, "unusable": -2.2,
    "unresponsive": -1.8, "inaccurate": -1.5, "incorrect": -1.2, "inconsistent": -1.2, "unstable": -1.5,
    "instability": -1.5, "error-prone": -1.8, "bug": -1.2, "bugs": -1.2, "error": -1.7, "errors": -1.7,
    "cracked": -1.6, "cracks": -1.3, "dented": -1.4, "scratched": -1.2, "flimsy": -1.8, "cheaply": -1.2,
    "fragile": -0.8, "clunky": -1.4, "cumbersome": -1.4, "tedious": -1.3, "grainy": -1.2, "fuzzy": -0.8,
    "distorted": -1.7, "sluggish": -1.7, "slow": -0.8, "finicky": -1.4, "flaky": -1.6, "tinny": -1.2,
    "muffled": -1.2, "crackling": -1.2, "scratchy": -1.0, "mediocre": -1.5, "subpar": -1.8,
    "shoddy": -2.2, "junk": -2.2, "junky": -2.0, "garbage": -2.0, "rubbish": -2.0, "useless": -2.0,
    "worthless": -2.2, "nonexistent": -1.6, "non-existent": -1.6, "lacking": -1.2, "lacks": -1.0,
    "poorly": -1.8, "annoyance": -1.5, "annoyances": -1.5, "nuisance": -1.4, "hassle": -1.5,
    "headache": -1.4, "nightmare": -2.4, "disappointment": -2.0, "regret": -2.0, "regrets": -2.0,
    "unfortunately": -1.6, "unfortunate": -1.4, "complained": -1.4, "complain": -1.2,
    "disgraceful": -2.5, "disgrace": -2.3, "shambles": -2.2, "appalling": -2.6,
    "overpriced": -1.8, "overcharged": -2.2, "ripoff": -2.6, "rip-off": -2.6, "scammed": -2.6,
    "fraudulent": -2.5, "unauthorized": -2.0, "unauthorised": -2.0, "breach": -2.2, "breached": -2.2,
    "hacked": -2.2, "leaked": -1.8, "compromised": -1.8, "recalled": -1.5, "unsafe": -2.0,
    "hazard": -1.8, "dangerous": -2.0, "beware": -2.0, "misleading": -1.8, "unclear": -1.0,
    "unintuitive": -1.4, "counterintuitive": -1.2, "confusing": -1.4, "complicated": -1.0,
    "awkward": -1.2, "uncomfortable": -1.8, "skimped": -1.8, "skimp": -1.4,
    "forewarned": -1.8, "time-consuming": -1.2, "unlucky": -1.4, "criticism": -1.2, "criticisms": -1.2,
    "rude": -2.2, "unhelpful": -2.0, "unprofessional": -2.0, "incompetent": -2.2, "ignored": -1.6,
    "refund": -1.3, "refunded": -0.8, "chargeback": -1.8, "cancelled": -1.2, "canceled": -1.2,
    "cancel": -1.2, "cancelling": -1.2, "delayed": -1.3, "delay": -1.2, "delays": -1.2,
    "unacceptable": -2.4, "ridiculous": -1.8, "pathetic": -2.4, "awful": -2.4, "horrible": -2.6,
    "terrible": -2.6, "disappointed": -2.2, "disappointing": -2.3, "frustrating": -2.1, "frustrated": -2.0,
    "died": -2.0, "dies": -1.8, "dead": -2.0, "broke": -1.8, "breaks": -1.8, "broken": -2.2,
    "faulty": -1.9, "fails": -1.9, "failed": -2.0, "failing": -1.8, "stopped": -1.2, "refused": -1.5,
    "refuses": -1.6, "wont": -0.3, "mistake": -1.6, "problem": -1.8, "problems": -1.8, "issue": -1.0,
    "issues": -1.2, "stuck": -1.2, "missing": -1.3, "waste": -2.0, "wasted": -2.2, "cons": -1.0,
    "paperweight": -2.0, "trash": -1.5, "bulky": -1.0, "detracts": -1.5, "expensive": -0.8,
    "pricey": -0.8, "cheap": -0.4, "noisy": -1.2, "skips": -1.2, "skipping": -1.2, "static": -0.8,
    "dim": -0.8, "blurry": -1.2, "impractical": -1.5, "unproductive": -1.5, "shudder": -1.5, "stinks": -2.0, "sucks": -2.0, "sucked": -2.0, "lousy": -2.5,
    "soaked": -1.4, "drenched": -1.4, "leaks": -1.6, "leaking": -1.6, "snapped": -1.6, "shattered": -1.8, "ripped": -1.4, "torn": -1.2,
    # travel and service failures (airlines, trains, hotels, telecoms)
    "stranded": -2.2, "overbooked": -1.8, "diverted": -1.2, "rebooked": -0.8, "waitlisted": -0.8,
    "misconnect": -1.8, "misrouted": -1.6, "undelivered": -1.8, "unreachable": -1.8, "uncontactable": -1.8,
    "unanswered": -1.6, "overcharging": -2.2, "mischarged": -2.0, "understaffed": -1.6, "disconnected": -1.2,
    # food, rooms and stays: the faults review sentences name (VADER, built on tweets, has none of them);
    # words with a common good reading ("chewy cookies", "dry humour", "sticky toffee", "raw talent") are left out
    "bland": -1.4, "tasteless": -1.8, "flavorless": -1.6, "flavourless": -1.6, "soggy": -1.4, "stale": -1.4,
    "overcooked": -1.5, "undercooked": -1.6, "greasy": -1.2, "lukewarm": -1.2, "tepid": -1.0, "rubbery": -1.4,
    "watery": -1.0, "mushy": -1.0, "burnt": -1.4, "inedible": -2.4, "undrinkable": -2.2, "unappetizing": -1.8,
    "unappetising": -1.8, "overrated": -1.6, "underwhelming": -1.8, "underwhelmed": -1.8, "uninspired": -1.4,
    "forgettable": -1.3, "cramped": -1.2, "filthy": -2.2, "smelly": -1.6, "musty": -1.4, "moldy": -1.8,
    "mouldy": -1.8, "dusty": -0.9, "leaky": -1.4, "unclean": -1.8, "unsanitary": -2.2, "unhygienic": -2.2,
    "overcrowded": -1.2, "uncomfy": -1.4, "disorganised": -1.2, "sloppy": -1.4,
    "dismissive": -1.6, "condescending": -1.8, "inattentive": -1.6, "snooty": -1.4, "surly": -1.8,
    # films, books, games
    "unwatchable": -2.2, "unreadable": -1.6, "unplayable": -2.0, "overlong": -1.2, "cliched": -1.2,
    "clichéd": -1.2, "pointless": -1.6, "predictable": -0.8,
    # common misspellings in reviews and posts
    "dissapointed": -2.2, "disapointed": -2.2, "dissappointed": -2.2, "disappointe": -2.2,
    "dissapointing": -2.3, "disapointing": -2.3, "dissapointment": -2.0, "disapointment": -2.0,
    "disipointed": -2.2, "disapponted": -2.2, "embarassing": -1.6, "embarassed": -1.5, "defected": -1.8, "stucked": -1.2,
    # verdicts of reviews and posts VADER lacks
    "letdown": -1.8, "substandard": -1.8, "sub-par": -1.8, "clusterfuck": -2.4, "clusterfucks": -2.4,
    "stingiest": -1.8, "disrespectful": -2.0, "hypocrisy": -1.8,
    # product and tech words VADER reads as sentiment ("plays discs", "supports mp3", "on the other hand",
    # "bought it on amazon", "windows xp")
    "play": 0.0, "plays": 0.0, "playing": 0.0, "played": 0.0, "support": 0.3, "supports": 0.3,
    "supported": 0.3, "practical": 1.0, "hand": 0.0, "hands": 0.0, "charged": 0.0, "charging": 0.0, "amazon": 0.0, "xp": 0.0, "wish": 0.0,
    # social-post interjections, slang and emoticons VADER lacks or misreads ("D:" is the sad face, and
    # its lower-cased key collides with a positive entry; "o_O" is surprise, not displeasure)
    "d:": -2.9, "sigh": -1.0, "sighs": -1.0, "fml": -2.4, "argh": -1.8, "grr": -1.5, "bleh": -1.0,
    "ouch": -1.2, "dammit": -2.0, "damnit": -2.0, "facepalm": -1.8, "epicfail": -2.5, "boo": -1.2,
    "o_o": 0.0, "o.o": 0.0, "0_o": 0.0, "o_0": 0.0,
    # blame and insults of everyday posts VADER lacks (it has "idiot", "racist", "liar", "hypocritical" but not
    # these plurals and neighbours); values set beside those neighbours
    "idiots": -2.3, "hypocrite": -2.0, "hypocrites": -2.0, "corrupt": -2.2, "corruption": -2.0, "toxic": -1.8,
    "genocide": -3.0, "bigot": -2.4, "bigots": -2.4, "bigoted": -2.4, "homophobic": -2.2, "misogynist": -2.2,
    "misogynistic": -2.2, "sexist": -2.2, "traitor": -2.2, "traitors": -2.2, "deceptive": -1.8, "lawless": -1.6,
    "crooked": -1.6, "scum": -2.8, "scumbag": -2.8, "scumbags": -2.8, "stfu": -2.2, "creepy": -1.8, "thug": -2.0,
    "thugs": -2.0, "deplorable": -2.0, "antisemitic": -2.4, "anti-semitic": -2.4, "antisemitism": -2.4,
    "discrimination": -1.8, "cringe": -1.4, "cringey": -1.6, "cringy": -1.6, "cowards": -2.0, "scammers": -2.6,
    "scammer": -2.6, "brainwashed": -1.8,
    "stole": -2.2, "despicable": -2.8, "false": -1.2, "lie": -1.5, "idiocy": -2.2, "delusional": -2.0,
    "psycho": -2.0, "whiny": -1.5, "cuck": -1.8, "cucks": -1.8, "nazi": -2.0, "nazis": -2.0, "neo-nazi": -2.4,
    "neo-nazis": -2.4,
    # everyday fear, blame and insults VADER lacks (it has "scared", "scary", "incompetent", "bigot", "asshole"s
    # in the plural, "fascist", "racism"); values beside those neighbours
    "afraid": -1.5, "scarier": -1.8, "inept": -2.0, "crybaby": -1.8, "crybabies": -1.8, "spineless": -2.0,
    "unhinged": -2.0, "deranged": -2.2, "rabid": -1.8, "nutjob": -2.0, "nutjobs": -2.0, "asshole": -2.5,
    "libtard": -2.4, "libtards": -2.4, "crook": -2.0, "crooks": -2.0, "shill": -1.6, "shills": -1.6,
    "sheeple": -1.8, "atrocious": -2.8, "abysmal": -2.8, "nauseating": -2.2, "repulsive": -2.4,
    "debacle": -2.2, "shitshow": -2.6, "backfired": -1.6, "gutted": -2.0, "absurd": -1.6, "blatant": -1.2,
    "bigotry": -2.4, "xenophobic": -2.2, "xenophobia": -2.2, "islamophobic": -2.2, "islamophobia": -2.2,
    "transphobic": -2.2, "homophobia": -2.2, "misogyny": -2.2, "sexism": -2.2, "fascism": -2.4,
    "tyranny": -2.2, "tyrant": -2.2, "tyrannical": -2.2, "bullies": -2.2, "disinformation": -1.6,
    "whinging": -1.2, "yuck": -1.8, "eww": -1.6, "yikes": -1.0,
    # the loudly crying face is tears of laughter or of being overwhelmed ("so cute 😭", "I can't 😭😭") as often as
    # of sorrow in posts; VADER reads it from its name as crying (-2.1)
    "😭": 0.0,
    # VADER scores "supremacist" as praise (+0.5, from "supreme") and the plural barely negative (-1.0); both
    # name a racist, beside "racist" (-3.0) and "bigot" (-2.4)
    "supremacist": -2.0, "supremacists": -2.0,
    # VADER scores "smug" as praise (+0.8); in everyday use it is a reproach
    "smug": -1.2,
    # the swear as an adjective ("this fucking guy") leans to blame; before a sentiment word it is a degree
    # adverb (EXTRA_BOOSTERS: "fucking amazing")
    "fucking": -1.0,
    # hope voices doubt about a product ("I hope it lasts", "hope they fix it"), not VADER's strong praise
    "hope": 1.0,
}

#: Laughter is a reaction, not a claim: "I'm not going lol" does not deny the laugh, so it is never negated
#: (like emoticons).
LAUGHTER = frozenset({"lol", "lolz", "lmao", "lmfao", "rofl", "haha", "hahaha", "hehe", "hah", "xd"})

#: Degree adverbs VADER lacks; words that are also lexicon entries ("pretty") boost only when a sentiment
#: word follows ("pretty useless"), otherwise keep their own valence ("a pretty dress").
EXTRA_BOOSTERS: dict[str, float] = {"pretty": 0.293, "super": 0.293, "real": 0.293, "fucking": 0.293}

_NUM = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|few|couple|several|a few|a couple)"
_UNIT = r"(?:minutes?|hours?|days?|weeks?|months?|uses?|times?|charges?)"
_NEG_AUX = (
    r"(?:doesn't|does not|didn't|did not|won't|will not|wouldn't|would not|don't|do not|can't|cannot|can not"
    r"|could not|couldn't|never|isn't|is not|wasn't|was not|aren't|are not|weren't|no longer|not|barely"
    r"|hardly|still won't|still doesn't|still can't)"
)

#: Emoji whose VADER description carries no valence ("pouting face") but whose use is plain: anger,
#: disgust, a thumbs-down. Shared by every language pack through :func:`emoji_valences`.
EMOJI_OVERRIDES: dict[str, float] = {
    "😡": -2.6, "🤬": -3.0, "👎": -2.2, "😠": -2.3, "😤": -1.6, "🤮": -2.6, "🤢": -2.0, "💩": -1.8,
    "😒": -1.5, "😞": -1.8, "😩": -1.8, "😫": -1.8, "😖": -1.6, "😣": -1.4, "🙄": -1.0, "😑": -0.8,
    "👍": 1.8, "🙏": 1.2, "💯": 1.6, "🥰": 2.6, "❌": -1.5,
    # read word by word from their names these came out backwards (round 16): "broken heart" +1.1, "pensive" +0.3
    "💔": -2.0, "😔": -1.5,
    # tweets use fire for "lit" (praise: "this track is 🔥") and the collision for emphasis, not for harm
    "🔥": 1.5, "💥": 0.0,
}

#: Conjunctions that open a new clause: a negation before them does not reach the words after.
CLAUSE_WORDS = frozenset({"and", "but", "because", "although", "though", "however", "while"})

_COULD_NOT = r"(?:couldn't|could not|couldnt|can't|cannot|can not|cant)"

#: Complaint patterns that need context. Regexes run on the lower-cased, space-joined token stream.
#: The words after which "like" is the verb of liking (a subject, an auxiliary, a negator, an adverb of degree):
#: elsewhere it is a preposition or a filler (the rule "like (not a verb)" below).
_LIKE_AS_VERB_AFTER = (
    "i", "we", "you", "u", "ya", "they", "he", "she", "people", "everyone", "everybody", "kids", "who",
    "also", "really", "still", "do", "does", "did", "don't", "didn't", "doesn't", "dont", "didnt", "doesnt",
    "never", "to", "will", "i'll", "you'll", "we'll", "they'll", "might", "may", "should", "could", "truly",
    "actually", "definitely", "totally", "kinda", "genuinely", "honestly", "rather", "quite", "generally",
    "usually", "personally", "i'd", "we'd", "you'd", "they'd", "id", "would", "not",
)

RULES = (
    # comparatives of happiness: the negation denies that anything could be better, it is praise
    rule(rf"{_COULD_NOT} (?:possibly )?(?:be|have been|get|ask for|wish for|hope for) (?:any |much |a )?(?:happier|more"
         r" (?:happy|pleased|satisfied|thrilled|delighted|impressed)|better|more)", 2.8, "couldn't be happier",
         negatable=False),
    rule(rf"{_COULD_NOT} (?:say|speak) enough (?:good|great|nice|positive)? ?(?:things|about)", 2.8,
         "can't say enough good things", negatable=False),
    rule(rf"{_COULD_NOT} recommend (?:\w+ ){{0,3}}(?:enough|more|highly enough)", 2.8, "can't recommend enough",
         negatable=False),
    rule(rf"{_COULD_NOT} (?:possibly )?(?:be|get|have been) (?:any )?worse", -2.8, "couldn't be worse",
         negatable=False),
    # general complaint constructions: charges I didn't make, without notice, promises not kept, wrong item
    rule(r"(?:that|which) (?:i|we) (?:didn't|did not|never|don't|do not) (?:\w+ )?(?:make|made|do|order|authori[sz]e"
         r"|request|buy|recogni[sz]e)", -2.4, "that I didn't make", negatable=False),
    rule(r"without (?:any )?(?:notice|warning|asking|telling (?:me|us)|my consent|my permission|explanation)", -2.2,
         "without notice", negatable=False),
    rule(r"(?:promised|said (?:they'd|they would|it would)|told (?:me|us) (?:they'd|they would)) (?:\w+ ){0,3}(?:call"
         r"|ring|get back|email|refund|fix|send)", -1.6, "promised a callback", negatable=False),
    rule(r"(?:still|yet) (?:nothing|no word|no news|no update|no reply|no response|no answer)", -2.2, "still nothing",
         negatable=False),
    rule(r"wrong (?:address|item|items|size|order|colou?r|product|parcel|package)", -2.0, "wrong item", negatable=False),
    rule(r"(?:extra|second|duplicate|unexpected|unknown|mystery|hidden|unrecognised|unrecognized) (?:\w+ )?(?:fee|fees"
         r"|charge|charges|payment|payments|debit|debits|transaction|transactions)", -2.0, "unexpected charge",
         negatable=False),
    rule(r"left (?:my |the |our )?(?:parcel|package|delivery|order|box) (?:\w+ ){0,2}(?:in|outside|at|on|by|with)", -1.8,
         "left my parcel outside", negatable=False),
    rule(r"(?:logins?|log-ins?|sign-ins?|access|activity|purchases|transactions) (?:\w+ ){0,4}(?:from|in) (?:another"
         r"|a different|an unknown|a foreign|some other) (?:country|location|device|city)", -2.4,
         "logins from another country", negatable=False),
    rule(r"(?:raised|increased|hiked|doubled|put up) (?:\w+ ){0,2}(?:price|prices|rate|rates|fee|fees|bill|subscription)",
         -1.8, "raised the price", negatable=False),
    rule(r"(?:cancellation|termination|exit|late|hidden) (?:fee|fees|charge|charges)", -1.8, "cancellation fee",
         negatable=False),
    rule(r"(?:returned|sent back) to sender", -2.0, "returned to sender", negatable=False),
    rule(r"(?:zero|no) (?:response|reply|answer|help|communication|updates?)", -2.2, "zero response",
         negatable=False),
    rule(r"tracking (?:\w+ ){0,3}(?:hasn't|has not|hasnt|not|never|didn't|doesn't) (?:\w+ )?(?:moved|updated|changed)",
         -2.0, "tracking hasn't moved", negatable=False),
    rule(r"(?:missing|incomplete) (?:items?|parts?|pieces?|order|delivery)", -2.0, "missing items",
         negatable=False),
    # travel: bags, connections, tarmac waits
    rule(r"(?:lost|losing|missing|delayed|damaged|broken|mishandled|left) (?:my |our |his |her |the )?(?:bag|bags"
         r"|luggage|suitcase|suitcases|baggage|stroller|wheelchair)", -2.4, "lost my bag", negatable=False),
    rule(r"(?:missed|miss|missing) (?:my |our |the )?(?:connection|connecting flight|connecting train|flight|train)",
         -2.0, "missed my connection", negatable=False),
    rule(r"(?:stuck|sitting|sat|waiting|held) (?:\w+ ){0,2}on the (?:tarmac|runway|plane|train)", -2.2,
         "stuck on the tarmac", negatable=False),
    rule(r"(?:no one|nobody|noone) (?:at|to|on) (?:the )?(?:gate|desk|counter|phone|phones|line)", -2.2, "no one at the gate",
         negatable=False),
    # a problem solved is praise: "sorted my issue in minutes", "fixed the problem"
    rule(r"(?:sorted|solved|fixed|resolved|sorting|solving|fixing|resolving) (?:out )?(?:\w+ ){0,2}(?:issue|issues"
         r"|problem|problems|glitch|bug|error)", 1.8, "sorted my issue", negatable=False),
    rule(r"(?:my |the )?(?:password|email address|e-mail address|phone number|account details) (?:was|were|has been"
         r"|got|had been) (?:changed|reset)", -2.0, "password was changed", negatable=False),
    # complaints told as facts: charged without consent, "delivered" but nothing came, cannot log in
    rule(r"(?:never|didn't|did not|haven't|have not) (?:\w+ )?(?:ordered|authori[sz]ed|signed up|subscribed|agreed|asked"
         r" for|requested|made)", -1.8, "never ordered", negatable=False),
    rule(r"(?:says|said|shows|showing|marked|listed) (?:as |it was |it's |its )?delivered", -2.0, "says delivered",
         negatable=False),
    rule(r"where (?:is|are|the hell is) my (?:order|parcel|package|refund|money|delivery)", -2.0, "where is my order",
         negatable=False),
    rule(r"(?:can't|cannot|can not|unable to|couldn't) (?:\w+ )?(?:log ?in|sign in|get into|access|login|pay)", -2.0,
         "can't log in", negatable=False),
    rule(r"(?:still|keep|keeps|kept) (?:taking|charging|billing|debiting)", -2.4, "still charging", negatable=False),
    rule(r"no (?:refund|refunds|compensation|apology|explanation|updates?|help|info|information|tracking|service"
         r"|signal|internet|wifi|power|water|heating|hot water)", -2.0, "no refund", negatable=False),
    # the "no problems" class: a denied complaint is mild praise, not a complaint (VADER reads it negative)
    rule(r"(?:no|not|never|without|don't|didn't|haven't|hasn't|hadn't|havent|hasnt|have not|has not|had not"
         r"|did not|do not|wasn't|weren't|isn't|aren't|zero|nary) (?:\w+ ){0,2}(?:any |a |one |single |major |real"
         r" |serious |big |significant |more |other |further )*(?:problems?|issues?|complaints?|trouble|troubles"
         r"|glitches|hiccups?|regrets?|gripes?|complaint|worries|qualms|hassles?)", 0.8, "no problems",
         negatable=False),
    rule(r"(?:can't|cannot|can not|couldn't) (?:really )?complain", 1.2, "can't complain", negatable=False),
    rule(r"(?:hard|tough|difficult) to beat", 2.0, "hard to beat", negatable=False),
    rule(r"point(?:-| and |-and-)shoot", 0.0, "point and shoot", negatable=False),
    # idioms whose words VADER scores but whose meaning is neutral: the comparison "it's not like …" (unlike the
    # verb in "don't like"), "kill time", the rhetorical "is that a bad thing?"
    rule(r"(?<!do )(?<!does )(?<!did )(?<!would )(?<!will )(?<!could )not (?:to )?(?:be )?like", 0.0, "not like (comparison)",
         negatable=False),
    rule(r"kill(?:s|ed|ing)? (?:some |the |a little |a bit of )?time", 0.0, "kill time", negatable=False),
    # "issue" as a subject of debate or a magazine's number, not a fault: "the issue of housing", "social issues",
    # "the January issue", "issue 12"
    rule(r"issues? (?:of|\d+)|(?:social|political|policy|environmental|foreign|domestic|economic|key|public"
         r"|national|global|moral|ethical|legal|campaign|election|transition|latest|next|current|special"
         r"|print|monthly|weekly|annual|january|february|march|april|may|june|july|august|september|october"
         r"|november|december|spring|summer|autumn|fall|winter|holiday) issues?", 0.0, "issue of", negatable=False),
    rule(r"lie (?:down|in bed|on (?:the|my|your|a)|back|awake|low|ahead|in wait|beneath|behind|in the sun)|lie-in",
         0.0, "lie down", negatable=False),
    # to fight or battle for a cause is commitment, not conflict ("fighting for our rights", "fight to keep it open")
    rule(r"(?:fight|fights|fighting|fought|battle|battles|battling|battled) (?:hard )?(?:for|to)\b", 0.0, "fight for",
         negatable=False),
    # everyday praise idioms built of words VADER scores as harm: "hell yeah", "you're killing it", "cracked me up",
    # "a cake to die for"; "killed it" only with a degree adverb ("Google killed it" is a product discontinued)
    rule(r"hell (?:yeah|yes|yea|ya|yeh)", 2.0, "hell yeah", negatable=False),
    rule(r"killing it|(?:absolutely|totally|really|truly|completely|seriously|just|so) killed it", 2.2, "killing it",
         negatable=False),
    rule(r"crack(?:ed|s|ing)? (?:me|us|him|her|them|everyone|everybody) up", 1.8, "cracked me up", negatable=False),
    rule(r"to die for", 2.5, negatable=False),
    # breaking a silence, a record or the news is no breakage
    rule(r"(?:broke|breaks|breaking|break) (?:even\b(?! though| if| after| when| before| with| more| faster| sooner)"
         r"|(?:the |a |his |her |their |its |my |our |your |all |new )?(?:\w+ )?(?:silence|records?|news|ground)\b)",
         0.0, "broke the record", negatable=False),
    rule(r"shut up and take my money", 2.0, "shut up and take my money", negatable=False),   # the meme: I want it
    rule(r"shut (?:up|your (?:mouth|face|trap))", -1.8, "shut up", negatable=False),
    # names of institutions and policies whose words VADER scores: "the popular vote" (of the people, not liked),
    # "social security" (a pension scheme), "the labour party" (a political party, not a celebration)
    rule(r"popular vote|social security|(?:democratic|republican|labour|labor|conservative|liberal|green|tea|communist"
         r"|nazi|socialist|national|political|opposition|ruling|third|independence|workers|people's) part(?:y|ies)",
         0.0, "popular vote", negatable=False),
    # "like" is praise only as a verb after its subject or an auxiliary ("I like", "we really like", "didn't
    # like"); elsewhere it is a preposition or a filler ("feels like a scam", "waited like 3 hours", "it's like
    # they don't care"), the most frequent positive word in the complaints the rules call praise
    rule(r"(?<=\S )" + "".join(rf"(?<!\b{w} )" for w in _LIKE_AS_VERB_AFTER) + "like", 0.0, "like (not a verb)",
         negatable=False),
    rule(r"(?:is|was|isn't|wasn't) (?:that|this|it) a bad thing", 0.0, "is that a bad thing", negatable=False),
    rule(r"(?:out of|beyond) control", -2.0, "out of control", negatable=False),
    rule(r"thanks? (?:you )?for nothing", -2.4, "thanks for nothing", negatable=False),
    # product reviews: praise words that are not praise
    rule(r"(?:i|we) (?:really )?(?:wanted|tried|want|hoped|expected) to (?:like|love|enjoy)", -2.0, "wanted to like",
         negatable=False),
    rule(r"(?:would|could|might) (?:have been|be) (?:much |a lot |far |even |so |way )?(?:nicer|better"
         r"|easier|nice|great|good|helpful|useful|preferable|handy)", -1.6, "would have been better", negatable=False),
    rule(r"(?:should have|shouldn't have|should've|could have been)\b", -1.0, "should have", negatable=False),
    rule(r"(?:should have|should've|wish i had|wish i'd) (?:bought|gotten|got|gone|purchased|stuck|listened|read"
         r"|returned|spent|paid|waited)", -2.2, "should have bought", negatable=False),
    rule(r"(?:i |we |you |really |just |only |still |do )?wish(?:ed)? (?:it|they|there|the|this|that)",
         -1.4, "wish it", negatable=False),
    rule(r"if only", -1.2, negatable=False),
    rule(r"(?:could|can) do better", -1.8, negatable=False),
    rule(r"(?:could|should|would|might) (?:at least|have at least)", -1.4, "could at least", negatable=False),
    rule(r"(?:the )?only (?:good|positive|nice|redeeming|decent) (?:thing|feature|part|point)", -1.6,
         "the only good thing", negatable=False),
    # waiting and delivery
    rule(r"still (?:waiting|no sign|not (?:arrived|received|here|delivered|fixed|resolved|working))", -2.3,
         "still waiting"),
    rule(r"(?:been )?waiting (?:for|on) (?:\w+ ){0,3}(?:\d+|two|three|four|several|weeks|days|hours|months|ages)\b",
         -2.0, "waiting for …"),
    rule(r"on hold(?: for)?", -1.8, "on hold"),
    rule(r"(?:never|hasn't|has not|haven't|have not|not yet) (?:arrived|received|showed up|shipped|delivered|came)",
         -2.2, "never arrived"),
    rule(r"never (?:got|received|heard back|worked|recieved)", -2.0, "never got", negatable=False),
    rule(rf"{_NUM} {_UNIT} (?:now|later|late|and counting)", -1.6, "weeks late"),
    # how long one has owned or used a thing is no delay ("I've had it for 3 months now"): it claims the duration
    # before "weeks late" can ("had this problem for 3 weeks now" is no ownership)
    rule(rf"(?:had|owned|used|using|use|have|has|own|owning) (?!(?:this|the|my|our|these|those) (?:problems?|issues?)\b)"
         rf"(?:it|this|them|these|those|mine|one|the \w+|this \w+|my \w+|our \w+) (?:(?!problems?\b|issues?\b)\w+ )?for"
         rf" (?:about |over |almost |nearly"
         rf" |around |roughly |just over |a little over |well over )?{_NUM} {_UNIT}(?: now)?", 0.0, "had it for months",
         negatable=False),
    rule(r"(?:arrived|came|delivered|showed up) (?:\w+ )?(?:late|damaged|broken|cracked|dead|defective|used)", -2.0,
         "arrived damaged"),
    # money
    rule(r"charged (?:me |us |my card |my account )?(?:twice|double|two times|three times|multiple times|several times|again)",
         -2.5, "charged twice"),
    rule(r"double[- ]charged", -2.5),
    rule(r"(?:want|need|asked for|requesting|demand|get|got) (?:a |my )?(?:full )?(?:refund|money back)", -2.3,
         "refund"),
    rule(r"(?:not|isn't|is not|wasn't|was not|aren't|ain't) (?:\w+ )?worth (?:it|the|a|\$|buying|your|my|what|that)",
         -2.3, "not worth", negatable=False),
    rule(r"(?:waste|wasted|waisted|waste of) (?:of )?(?:my |your |our |good )?(?:money|time|\$|cash)", -2.6,
         "waste of money"),
    rule(r"(?:money|time|cash) down the (?:drain|toilet)", -2.6, "money down the drain", negatable=False),
    rule(r"save your (?:money|time|cash)", -2.2, negatable=False),
    # things breaking
    rule(r"(?:stopped|stops|quit|quits|ceased) (?:working|charging|responding|playing|recognizing|reading|functioning"
         r"|holding)", -2.5, "stopped working"),
    rule(rf"{_NEG_AUX} (?:even |always |really |properly |going to |gonna |seem to |seems to )?(?:work|works"
         r"|worked|working|function|functions|turn on|power on|charge|connect|load|play|read|recognize|recognise"
         r"|boot|sync|respond|answer|perform|fit|fits|last|hold|stay|register|detect|ship|make sense|close|open|eject"
         r"|start|accept|let me|stay on|come on)\b", -2.2, "does not work", negatable=False),
    rule(r"(?:nothing|neither (?:\w+ ){0,4}|none of (?:\w+ ){0,3}) (?:works?|worked|helps?|helped|happens|happened"
         r"|fixed|fits)", -2.2, "nothing worked", negatable=False),
    rule(r"(?:broke|breaks|died|dies|failed|fails|cracked|fell apart|quit|stopped working) (?:after|within|in)\b",
         -2.4, "broke after"),
    rule(r"(?:started|starts|began|begins|begun) (?:to )?(?:fail|break|crack|peel|leak|die|skip|freez|crash"
         r"|malfunction|act up|flicker|rattle|squeak|fall apart)\w*", -2.0, "started to fail"),
    rule(r"act(?:s|ed|ing)? up", -1.8, "acts up"),
    rule(rf"(?:worked|lasted) (?:fine |well |great |ok |okay )?(?:for )?(?:only |just |about )?{_NUM} (?:minutes?|hours?"
         r"|days?|weeks?)", -1.6, "worked for two weeks"),
    rule(r"(?:fall|falls|fell|falling) (?:\w+ )?short", -1.8, "falls short"),
    rule(r"(?:went|go|goes|gone) up in smoke", -2.2, "up in smoke"),
    rule(r"(?:not|isn't|wasn't|aren't|weren't|doesn't|didn't|don't|never|hardly) (?:\w+ ){0,3}enough", -1.4,
         "not enough", negatable=False),
    rule(r"not (?:\w+ ){0,2}what (?:i|you|we|they) (?:\w+ ){0,2}(?:wanted|expected|expect|looking for|ordered"
         r"|paid for|need|needed)", -1.8, "not what I expected", negatable=False),
    rule(r"thumbs down", -2.0, negatable=False),
    # sentence adverbs of candour are no praise ("to be honest, the food was bland"; VADER scores "honest" 2.3)
    rule(r"to be (?:honest|fair|frank)|in all honesty|if (?:i'm|i am|im) (?:honest|being honest)|honestly|tbh|tbf|frankly",
         0.0, "to be honest", negatable=False),
    rule(r"(?:an |the )?otherwise (?:good|great|nice|fine|excellent|decent|solid|perfect|ok|okay)", -1.0,
         "otherwise good", negatable=False),
    rule(rf"(?:only )?lasted (?:only |just |barely |less than |under |about |maybe |not even )?{_NUM}"
         rf" (?:\w+ )?{_UNIT}", -1.2, "lasted …"),
    rule(rf"(?:only lasted|lasted (?:only|just|barely|less than|under|not even)) (?:about )?(?:\w+ )?{_NUM}?",
         -2.4, "only lasted", negatable=False),
    rule(r"(?:send|sent|sending|ship|shipped|take|took|mail|mailed) (?:it|them|this|the \w+|this \w+|mine) back"
         r"|(?:bring|brought) (?:it|them|this|mine) back", -2.0, "sent it back"),   # not "brought the smiles back"
    rule(r"(?:return|returned|returning) (?:it|this|them|the|mine|both|my|that)", -2.0, "returned it"),
    rule(r"(?:for|in for|needs?|needed) (?:a )?(?:repair|repairs|replacement)", -1.8, "needs repair"),
    rule(r"(?:had|have|has|having) to (?:be )?(?:return|replace|send|exchange|reset|restart|reboot|call|contact"
         r"|repair|fix)", -1.8, "had to return"),
    rule(r"(?:is|was|are|were|went|goes|been) down\b", -1.8, "is down"),
    rule(r"(?:keeps?|kept) (?:on )?(?:\w+ing)", -1.4, "keeps …ing", negatable=False),
    rule(r"(?:data|security|privacy) (?:breach|leak|leaks|incident)", -2.6),
    rule(r"(?:product )?recall\b", -1.5, "recall"),
    rule(r"only (?:played|plays|play|works|work|worked|lasted|last|reads|read|recognizes|recognized|charges"
         r"|charge|holds|hold|held|got)", -1.6,
         "only worked", negatable=False),
    rule(r"(?:not|isn't|wasn't|aren't|weren't|never|no longer) (?:very |fully |always |even )?(?:valid|compatible"
         r"|supported|documented|recognized|detected|responsive|reliable|accurate|intuitive"
         r"|user-friendly|functional|usable)", -1.5, "not compatible", negatable=False),
    # quality and fit
    rule(r"(?:poor|low|bad|terrible|awful|cheap|questionable|inferior|shoddy) (?:build |sound |picture |print )?"
         r"(?:quality|construction|workmanship|craftsmanship)", -2.2, "poor quality", negatable=False),
    rule(r"cheap(?:ly)? (?:made|plastic|construction|feel|feeling|materials?|parts?|built|looking)", -2.0,
         "cheap plastic", negatable=False),
    rule(r"too (?:small|big|large|heavy|short|long|slow|expensive|loud|quiet|dim|bright|hard|difficult|complicated"
         r"|bulky|thick|thin|flimsy|hot|much|tight|loose|narrow|wide|weak|low|high|fast|sensitive)", -1.6, "too …"),
    rule(r"(?:doesn't|does not|didn't|did not|don't|won't) (?:\w+ )?fit", -2.0, "doesn't fit", negatable=False),
    rule(r"no (?:picture|sound|signal|audio|video|power|display|image|reception|response|instructions|manual"
         r"|documentation|support|help|way to|option to|ability to|backlight|volume)", -1.8, "no picture",
         negatable=False),
    rule(r"(?:has|have|had|with|there's|there is|there are|there was|comes with) no (?!problem|problems|issue|issues"
         r"|complaints?|trouble|doubt|regrets?)", -1.0, "has no", negatable=False),
    rule(r"(?:doesn't|does not|didn't|did not) (?:have(?! to\b)|support|come with|include|allow|let)", -1.4, "doesn't have",
         negatable=False),
    rule(r"(?:hard|difficult|impossible|tricky|confusing|awkward) to (?:use|read|see|find|hear|navigate|get|figure"
         r"|understand|set|operate|install|access|reach|hold|open|control|clean|adjust)", -1.8, "hard to use"),
    rule(r"(?:takes?|took|taking) (?:forever|ages|too long)", -1.6, "takes forever"),
    rule(r"(?:waited|waiting|wait|waits) (?:\w+ )?(?:forever|ages|an eternity)", -1.6, "waited forever"),
    rule(r"(?:only|just) took (?:\w+ ){1,3}(?:to|before) \w+", 0.0, "only took", negatable=False),
    rule(r"(?:only|just|barely|less than|under|no more than|not even) (?:had to |have to |a |\w+ )?(?:wait|waited|waiting"
         r"|queued|sat|held)|(?:never|didn't|did not|don't|do not|no need to) (?:have to |had to |need to |needed to"
         r" |ever have to |even have to |ever had to )?wait|not (?:having|needing) to wait", 0.0, "only waited",
         negatable=False),   # no bare "not": "I will not wait 3 hours again", "you should not have to wait 40 minutes"
    rule(r"took (?!only|just|no time|seconds|a second|a minute|a few)(?:\w+ ){1,3}(?:to|before (?:they|anyone|someone))"
         r" (?:bring|arrive|come|get (?:our|my|a|the|any)|serve|seat|deliver|answer|respond|reply|refund|fix|show up"
         r"|take (?:our|my) order|acknowledge|notice|call back)", -1.4, "took them an hour to …"),
    rule(r"barely (?:lasts?|lasted|works?|worked|holds?|held|fits?|charges?|functions?|edible|warm|usable|audible"
         r"|readable|legible|functional|cooked|made it)", -1.6, "barely lasts"),
    rule(r"(?:portions?|servings?|helpings?) (?:are|were|was|is) (?:\w+ )?(?:tiny|small|minuscule|skimpy|stingy|meagre"
         r"|meager)|(?:tiny|minuscule|skimpy|stingy|meagre|meager) (?:portions?|servings?|helpings?)", -1.4,
         "tiny portions"),
    rule(r"(?:gets?|getting|got|runs?|running|ran) (?:really|very|too|extremely|super|so|way too|dangerously"
         r"|uncomfortably|scalding|burning) hot", -1.4, "gets very hot"),
    rule(r"(?:still|just) (?:can't|cannot|couldn't|doesn't|won't|isn't|not)", -1.6, "still can't", negatable=False),
    rule(r"(?:can't|cannot|can not|couldn't|could not|unable to) (?!wait|beat|complain|go wrong|recommend|say enough"
         r"|believe|get enough|stop|live without|praise|imagine|thank|be happier|be better|be more|ask|have asked|fault"
         r"|give|resist|help but|agree"
         r"|deny|argue|tell|think|miss|remember|comment|speak (?:to|for) (?:its|how|whether|the long|long))\w+", -1.0,
         "can't …", negatable=False),
    rule(r"forget (?:it|about it)", -1.6, negatable=False),
    # others' trouble, offered help or doubted, is no complaint of the author's ("for those of you who have problems
    # with this player, check the manual", "not sure why people have issues with the menus")
    rule(r"(?:for )?(?:those|anyone|people|users|owners) (?:of you )?(?:who|that) (?:have|has|had|are having|is having"
         r"|were having) (?:\w+ )?(?:problems?|issues?|trouble)", 0.0, "those who have problems", negatable=False),
    rule(r"(?:not sure|don't know|do not know|don't understand|can't understand|never understood|wonder) why"
         r" (?:people|some people|others|everyone|so many people|some|other reviewers|reviewers) (?:\w+ )?(?:(?:have|had"
         r"|are having|were having) (?:\w+ )?(?:problems?|issues?|trouble|complaints?)|complain(?:s|ed|ing)?"
         r"|are complaining|hate|dislike)", 0.0, "not sure why people complain", negatable=False),
    rule(r"prone to", -1.5),
    rule(r"(?:i|we|you|they) (?:had|have|will have|'ll have|'d have) to", -0.8, "had to"),
    rule(r"washed out", -1.4),
    rule(r"(?:calls?|connection|signal|wifi|wi-fi) (?:\w+ )?(?:drops?|dropped|dropping)", -1.8, "dropped calls"),
    # service
    rule(r"(?:customer |tech |technical )?(?:service|support) (?:was|is|were|are) (?:\w+ )?(?:useless|rude|unhelpful"
         r"|terrible|awful|a joke|nonexistent|non-existent)", -2.6, "bad support"),
    rule(r"(?:no one|nobody|noone|no body) (?:answers|answered|responds|responded|replies|replied|helps|helped|cares|called)", -2.4,
         "nobody answers"),
    rule(r"(?:never|no) (?:got |received )?(?:a )?(?:response|reply|answer|call back|callback)", -2.2, "no reply"),
    rule(r"never again", -2.8, negatable=False),
    rule(r"(?:never|won't|will not|wouldn't|would not|will never|would never|cannot|can't|could not|couldn't)"
         r" (?:\w+ ){0,3}(?:buy|order|use|shop|fly|recommend|purchase) (?:\w+ )?(?:again|from|here|this|it|them|another"
         r"|anyone|to)", -2.6, "never buy again", negatable=False),
    rule(r"(?:never|won't|will not|wouldn't|would not|will never|would never) (?:ever )?(?:\w+ )?(?:eat|dine|stay|go|come"
         r"|visit|book|step foot|set foot) (?:\w+ )?(?:again|here|there)", -2.4, "never eat here again", negatable=False),
    rule(r"(?:don't|do not|dont|never) (?:buy|bother|waste|purchase|order)\b", -2.6, "don't buy", negatable=False),
    rule(r"(?:stay away|steer clear|avoid) (?:from )?(?:this|it|them|these|that)|avoid (?:at all costs|like the plague)",
         -2.4, "stay away", negatable=False),
    rule(r"(?:don't|do not|dont) (?:ever )?(?:go|eat|stay|shop|come|dine|fly|book|visit) (?:here|there|to this|at this"
         r"|in this|with (?:them|these|this|that))", -2.4, "don't go here", negatable=False),
    rule(r"(?:look|looking|shop|shopping) (?:\w+ )?elsewhere", -2.0, "look elsewhere", negatable=False),
    rule(r"recommend against", -2.4, negatable=False),
    rule(r"(?:is|was|are|were|what|such) (?:a |an )?(?:complete |total |absolute |utter |real |big |bit of a )?joke",
         -2.2, "is a joke"),
    # review and post verdicts: quality short of a standard, said without a sentiment word of VADER's
    rule(r"(?:below|under) (?:average|par|standard|expectations?)|not (?:\w+ )?(?:up )?to (?:par|standard|scratch)"
         r"|not up to (?:the )?(?:mark|standards?)", -1.8, "below average", negatable=False),
    rule(r"far from (?:good|great|perfect|ideal|impressive|satisfactory|acceptable|pleasant|enjoyable|what (?:i|we)"
         r" (?:expected|anticipated|hoped|wanted|was expecting|were expecting|imagined|paid for))",
         -1.8, "far from good", negatable=False),
    rule(r"(?:leaves?|left|leaving) (?:a lot|lots|much|a great deal|something|a bit|a little|plenty|quite a bit|a tad)"
         r" to be desired", -2.0, "leaves a lot to be desired", negatable=False),
    rule(r"(?:fair|mediocre|ok|okay|average|decent|passable|edible|adequate|acceptable|so-so|bland|tolerable|good) at best",
         -1.6, "fair at best", negatable=False),
    rule(r"over rated|over hyped|overhyped", -1.6, "over rated"),
    rule(r"less than (?:\w+ )?(?:helpful|ideal|impressed|impressive|stellar|satisfactory|satisfied|pleased|happy|great"
         r"|good|friendly|pleasant|professional|accommodating|thrilled|enthusiastic|useful|adequate|competent|courteous"
         r"|acceptable|perfect|excited)", -1.8, "less than helpful", negatable=False),
    rule(r"(?:i've|i have|ive|we've|we have|weve) had (?:much |way |far |a lot |loads |plenty of |many )?better", -1.6,
         "had better", negatable=False),
    rule(r"(?:totally|really|just|seriously|kinda|completely|this|it|that|which) (?:totally |really |just |seriously )?blows",
         -2.0, "it blows", negatable=False),
    rule(r"(?:gave up|got up|decided|finally) and (?:left|walked out)|(?:we|i) (?:just |finally )?walked out"
         r"|left without (?:eating|ordering|being served|our food|my food|paying)", -1.6, "walked out", negatable=False),
    rule(r"needs? (?:a |an )?(?:complete |total |major |serious |massive )?(?:overhaul|makeover|revamp|rethink)", -1.4,
         "needs an overhaul", negatable=False),
    # posts at a brand: the exasperated question and the verdict
    rule(r"(?:are|r) (?:you|u) (?:\w+ )?kidding|(?:you've|you have|you|ya) (?:got|gotta) (?:to )?be kidding"
         r"|must be kidding|kidding me", -2.2, "are you kidding me", negatable=False),
    rule(r"what gives", -1.4, negatable=False),
    rule(r"(?:get|got) (?:a clue|it together|your act together|your shit together|your house in order)"
         r"|(?:learned|learnt) (?:my|our) lesson", -1.8,
         "get a clue", negatable=False),
    rule(r"(?:lost|losing|lose) (?:all |the |my |our |any |every )?(?:love|faith|trust|respect|confidence)", -2.2,
         "lost my faith", negatable=False),
    rule(r"(?:that's|thats|that is|this is|what|such|total|complete|utter|absolute|pure|so much) (?:a |an )?"
         r"(?:load of |bunch of )?(?:bs|bull)", -2.2, "that's BS", negatable=False),
    rule(r"piece of (?:junk|crap|garbage|shit|sh\S*|trash)", -3.0, "piece of junk"),
    rule(r"(?:i |we )?(?:want|wanted|going|decided) to cancel", -2.2, "cancel"),
    rule(r"the (?:only |biggest |main |one )?(?:problem|downside|drawback|catch|issue|con|complaint|gripe|negative)"
         r" (?:is|was|i have|i had)", -1.4, "the problem is"),
    rule(r"sorry (?:i|we) (?:bought|purchased|ordered|got)", -2.4, "sorry I bought", negatable=False),
)


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
    return {**out, **EMOJI_OVERRIDES}


def split_emoji(text: str, emoji: Mapping[str, float]) -> str:
    """Surround known emoji with spaces so each is its own token."""
    if text.isascii():
        return text
    return "".join(f" {ch} " if ch in emoji else ch for ch in text)


def symbols(lexicon: Mapping[str, float]) -> frozenset[str]:
    """Lexicon keys that are emoticons or emoji rather than words (":)", ":p", "😍"): never negated."""
    return frozenset(k for k in lexicon if not k.replace("-", "").replace("'", "").isalpha())


_ELONGATED = re.compile(r"([a-zA-Z])\1{2,}")
_STRETCHED_WORD = re.compile(r"[a-zA-Z]*([a-zA-Z])\1{2,}[a-zA-Z]*")
#: Contractions typed without their apostrophe ("doesnt", "cant", "didnt"), as tweets and phones mostly type
#: them; the phrase rules and frames are written with it. Words that are also other words ("wont" aside,
#: "its", "were", "ill", "id", "lets", "hell", "shell") are left alone; "wont" is rare in its own sense.
_BARE_CONTRACTION = re.compile(
    r"\b(do|does|did|ca|wo|is|was|are|were|could|would|should|have|has|had|ai|must|need)(nt)\b|\b(i)(m|ve)\b",
    re.IGNORECASE)
#: A cheap literal pre-check: most texts have no word ending in "nt" and no "im"/"ive", and skip the scan above.
_MAYBE_BARE = re.compile(r"nt\b|\bi(?:m|ve)\b", re.IGNORECASE)


def contract(text: str) -> str:
    """"doesnt work" -> "doesn't work", "cant log in" -> "can't log in", "im" -> "i'm"; case kept
    ("DOESNT" -> "DOESN'T") for the capitals' emphasis. One regex scan per text that may have one."""
    if _MAYBE_BARE.search(text) is None:
        return text

    def fix(m: re.Match[str]) -> str:
        if m.group(1):                    # "does" + "nt", "ca" + "nt" (cant), "wo" + "nt" (wont)
            return f"{m.group(1)}{m.group(2)[0]}'{m.group(2)[1]}"
        return f"{m.group(3)}'{m.group(4)}"

    return _BARE_CONTRACTION.sub(fix, text)


def unstretch(text: str, lexicon: Mapping[str, float]) -> str:
    """Social posts stretch words for emphasis ("sooo baaad", "ughhhh", "loooove"): rewrite each stretched
    word to the lexicon word it stands for (runs of 3+ letters cut to two, else to one); words that are not
    stretched forms of a lexicon word are left alone, and so are a word that is one letter repeated ("KKK", "AAA":
    an acronym, not a stretch of "kk") and a word the lexicon has as typed.

    Done once per text (one C-speed regex scan, nothing more for the usual text without a stretched word)
    rather than as a per-token lookup fallback, which cost ~15% of scoring time.
    """
    if _ELONGATED.search(text) is None:
        return text

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if not _ELONGATED.sub("", word) or word.lower() in lexicon:
            # a word that is nothing but a run ("KKK", "AAA", "zzz") or a lexicon word as typed is no stretched word:
            # "KKK" is not "kk" (regression, round 18: it scored +1.5)
            return word
        for form in (_ELONGATED.sub(r"\1\1", word), _ELONGATED.sub(r"\1", word)):
            if form.lower() in lexicon:
                return form
        return word

    return _STRETCHED_WORD.sub(fix, text)


def plural(lexicon: Mapping[str, float], word: str) -> float | None:
    """A plural (or third person) of a negative lexicon word VADER lists only in the singular: "idiots", "cowards",
    "thugs". Only negative stems: plurals of praise words are often other words ("goods", "greats", "likes")."""
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        stem = lexicon.get(word[:-1])
        if stem is not None and stem < 0:
            return stem
    return None


@lru_cache(maxsize=1)
def pack() -> LangPack:
    """The English pack, built once per process (VADER's lexicon file is parsed here)."""
    emoji = emoji_valences()
    deny = anything_but("en")
    lexicon = drop_topics("en", {**_vader().lexicon, **emoji, **CX_LEXICON})
    return LangPack(
        code="en",
        lexicon=lexicon,
        negations=frozenset(NEGATE) | {"hardly", "barely", "nope", "nor"},
        boosters={**BOOSTER_DICT, **EXTRA_BOOSTERS},
        contrast=frozenset({"but"}),
        rules=RULES + frame_rules("en"),
        asking=asking("en"),
        irony=irony("en"),
        prepare=lambda text: unstretch(split_emoji(deny(contract(text)), emoji), lexicon),
        irrealis=irrealis("en"),
        symbols=symbols(lexicon) | frozenset({":p", ":d", "xd", "d:", "xp", ":o", "=p", ":b"}) | LAUGHTER,
        clause_words=CLAUSE_WORDS,
        fallback=plural,
    )
