"""A rating written in the text ("9/10", "2/5", "1 star", "5 étoiles", "zwei Sterne"): the author's own verdict.

Why: reviews and posts about films, books, games and products often end with a score that outweighs their words:
"Terrifying. Didn't sleep for two nights. 9/10." is praise of a horror film; "Looks great, 3/10" is not. The
words alone read the first as a complaint. A rating the source supplies (a star field) still wins; this only
stands in where there is none, through the same blend (:meth:`Scorer._blend_rating`: 1-2 stars make a
complaint, 4.5-5 stars rule one out, the rest only lean).

What counts, in every scored language: ``N/5``, ``N/10``, ``N/100`` and ``N out of 5|10`` (``sur``, ``von``,
``de``, ``su``, ``uit``), and ``N`` or a number word (one to five, and the same in fr de es it pt nl) followed
by the word for star(s). What does not: a hotel's class ("a 5-star hotel"), "Star Wars", other people's
ratings ("all the 5 star reviews"), a part's ("5 stars for the packaging"), a deduction ("minus one star"), a date or a time (``24/7``, ``3/10/2024``, "on 3/10", "le 5/10"), a
score above its scale, any other scale ("50/50", "9/11", "1/2"), a fraction or a ratio ("1/100 of users", "9/10 times
it fails", "1/10th", a hundredth "1/100 sec": out of 100 a rating is given in tens), a share of people or cases ("9/10
dentists", "8 out of 10 users"), and the scale's own "5 stars" in "3 out of 5 stars" (no count of stars). The last
rating in the text is the verdict
(a mixed review that scores its parts ends with the whole).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["WrittenRating", "written_rating"]

#: number words before "star(s)"; not the articles ("a", "una", "een"...): "she is a star" is no rating
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "single": 1, "zero": 0,
    "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
    "einen": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5,
    "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "due": 2, "tre": 3, "quattro": 4, "cinque": 5,
    "duas": 2, "três": 3, "quatro": 4,
    "één": 1, "twee": 2, "drie": 3, "vijf": 5,
}
_STAR = r"(?:stars?|étoiles?|etoiles?|sterne?n?|estrellas?|stell[ae]|estrelas?|sterren|ster)"
_NUM = r"(\d{1,3}(?:[.,]\d)?)"
#: "on 3/10", "le 5/10", "am 3/10", "el 5/10", "il 5/10", "em 5/10", "op 5/10", "since", "until", "due": a date
_DATE_BEFORE = re.compile(r"(?:\b(?:on|since|until|till|by|due|from|le|du|au|am|vom|bis|seit|el|del|desde|hasta|il|"
                          r"dal|fino|em|até|op|sinds|tot|van)\s*|\d/|[.:])$", re.I)
_OUT_OF = r"(?:out of|sur|von|de|su|uit)"
_SCALE = re.compile(rf"(?<![\w/.,]){_NUM}\s*(?:/|\s{_OUT_OF}\s)\s*(5|10|100)(?![\w/]|[.,]\d)", re.I)
#: ... or a share of people or cases: "9/10 dentists recommend it", "8 out of 10 users", "9/10 Kunden", "9/10 personnes"
#: (round 19: these read as a 4.5-star verdict, and "8/10 people would not buy it again" as praise)
_SHARE_OF = (r"people|persons|users|customers|clients|dentists|doctors|experts|owners|parents|buyers|reviewers|"
             r"respondents|passengers|employees|cases|personnes|gens|utilisateurs|cas|leute|menschen|kunden|nutzer|"
             r"personen|fälle|personas|clientes|usuarios|casos|persone|clienti|utenti|casi|pessoas|usuários|"
             r"mensen|klanten|gebruikers|gevallen")
#: What follows a fraction or a ratio, never a rating: "1/100 of users", "1/10 de la population", "1/5 der Kunden",
#: "9/10 times it fails", "9/10 fois", "a 1/100 chance" ("1/10th" is no rating either: no letter may follow the scale)
_FRACTION_AFTER = re.compile(r"\s*(?:of(?! course)|de|du|des|der|del|della|dei|degli|delle|do|da|dos|das|van|times?|fois|mal|"
                             r"veces|volte|vezes|keer|chances?|odds|" + _SHARE_OF + r")\b", re.I)
#: Out of 100 a rating is given in tens ("85/100", "40/100", "100/100"); a numerator below ten is a hundredth ("1/100
#: sec", "a 1/100 scale model", "3/100 of a second")
_HUNDREDTHS = 10.0
#: "a 5-star hotel", "Michelin", "two Star Wars films": a class or a name, not the author's verdict
#: "5 star reviews" (other people's), "5 stars for the packaging" (a part), "minus one star" (a deduction)
_STARS = re.compile(rf"(?<!minus )(?<!moins )(?<!menos )(?<!meno )(?<![\w/.,-])(\d(?:[.,]5)?|[^\W\d_]+)\s*(?:-\s*)?"
                    rf"{_STAR}\b(?!\s*(?:hotels?|hôtels?|hostels?|resorts?|albergo|alberghi|wars|trek|general|michelin"
                    r"|reviews?|ratings?|avis|bewertung|rezension|reseñas?|recensioni|avalia|recensie|for|pour|für|"
                    r"por|para|per|voor)\b)", re.I)


@dataclass(frozen=True)
class WrittenRating:
    stars: float        # on the 1..5 scale of a source's star field
    text: str           # as written, for `monitor explain`


def _value(raw: str) -> float | None:
    raw = raw.lower()
    if raw in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[raw])
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return None


#: cheap tests first: most texts have no digit before a scale word or slash, and no word for star
_MAYBE_SCALE = re.compile(rf"\d\s*(?:/|{_OUT_OF}\s)", re.I)
_MAYBE_STAR = re.compile(rf"\b{_STAR}\b", re.I)


def written_rating(text: str) -> WrittenRating | None:
    """The last rating written in ``text``, as stars from 1 to 5, or None."""
    found: list[tuple[int, WrittenRating]] = []
    scales = list(_SCALE.finditer(text)) if _MAYBE_SCALE.search(text) else []
    counted = _STARS.finditer(text) if _MAYBE_STAR.search(text) else iter(())
    #: where a scale was written: its "5 stars" in "3 out of 5 stars" or "4/5 étoiles" is the scale, not a count
    #: (regression, round 19: "3 out of 5 stars" read as 5 stars, the last rating in the text)
    scale_spans = [(m.start(), m.end()) for m in scales]
    for m in scales:
        value, scale = _value(m.group(1)), float(m.group(2))
        if value is None or value > scale or _DATE_BEFORE.search(text[max(0, m.start() - 8):m.start()]):
            continue
        if _FRACTION_AFTER.match(text, m.end()) or (scale == 100 and 0 < value < _HUNDREDTHS):
            continue        # a fraction or a ratio: "1/100 of users", "9/10 times", "1/100 sec"
        stars = max(1.0, min(5.0, value * 5.0 / scale)) if scale != 5 else max(1.0, value)
        found.append((m.start(), WrittenRating(stars, m.group(0).strip())))
    for m in counted:
        if any(start < m.start() < end for start, end in scale_spans):
            continue
        value = _value(m.group(1))
        if value is None or not 0 <= value <= 5:
            continue
        found.append((m.start(), WrittenRating(max(1.0, value), m.group(0).strip())))
    return max(found, key=lambda f: f[0])[1] if found else None
