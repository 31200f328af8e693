"""Proper names carry no sentiment in the learned layer (round 20): the words the training lines write with a capital
mid-sentence ("España", "Bilbao", "Carrefour") are read as one ``<name>`` token in training and scoring alike.

Regression: round 18's Spanish layer weighed "españa" 2.1 logits towards praise (it met the name in four neutral or
happy lines) and lifted real complaints about an airline that named the country."""

from __future__ import annotations

from monitor.analyse.sentiment import learned
from monitor.analyse.sentiment.scorer import Scorer

LINES = [
    "Vuelo a Bilbao retrasado otra vez",
    "Hoy llueve en Bilbao y el tren llega tarde",
    "El pedido de Carrefour llegó roto",
    "Gracias Carrefour, todo perfecto",
    "Bilbao es precioso en primavera",          # a sentence's first word tells nothing: capitalised anyway
    "No me gusta nada. Nada de nada",            # "Nada" opens a sentence: no name
    "La APP no funciona y la app tampoco",       # all capitals is shouting, not a name
    "El Servicio fue malo, el servicio siempre es malo, el servicio nunca mejora",
]


def test_names_are_the_words_written_with_a_capital_inside_a_sentence() -> None:
    names = learned.proper_names(LINES, "es")
    assert {"bilbao", "carrefour"} <= names
    assert not names & {"nada", "app", "servicio", "vuelo", "hoy"}


def test_words_the_rules_score_or_function_words_are_never_names() -> None:
    assert "carrefour" not in learned.proper_names(LINES, "es", ignore={"carrefour"})


def test_no_names_in_a_language_that_capitalises_every_noun() -> None:
    assert learned.proper_names(["Der Zug nach Berlin ist voll", "Im Zug nach Berlin war es laut"], "de") == frozenset()


def test_a_name_is_one_token_in_training_and_scoring() -> None:
    toks = learned.tokens("Vuelo a Bilbao retrasado", lang="es", names=frozenset({"bilbao"}))
    assert toks == ["vuelo", "a", "<name>", "retrasado"]


def test_the_shipped_layer_gives_no_weight_to_a_name_it_learned() -> None:
    model = Scorer().model
    assert model is not None
    spanish = model.languages["es"]
    assert spanish.names and "españa" in spanish.names
    assert not [f for f in spanish.weights if "españa" in f.split(":", 1)[1].split()]
    assert model.languages["de"].names == frozenset()


def test_names_survive_the_model_file_round_trip() -> None:
    model = Scorer().model
    assert model is not None
    again = learned.from_json(model.to_json(), "round trip")
    assert again.languages["es"].names == model.languages["es"].names
