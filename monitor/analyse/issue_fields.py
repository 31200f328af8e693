"""Issue-type cues by semantic field: the things a complaint of each type is *about*, in every scored language.

:mod:`monitor.analyse.issues` began with the words complaints use for each type ("refund", "hacked", "outage").
A complaint told as a fact often names only the thing that went wrong: the camera, the tyre, the meal, the
insurer, the stream. Those nouns come in fields (a product's parts, food and groceries, travel, insurance
and bank charges, connectivity, replies from a help desk, bodily harm), and each field is listed whole here
in the seven languages, so a type is found from the subject of a complaint and not only from its verb.
Same stem syntax as there: a stem matches at a word start, ``=`` ends a whole word; lower-cased and
accent-folded. Written for this project; no entry comes from an evaluation set.
"""

from __future__ import annotations

__all__ = ["FIELDS"]

FIELDS: dict[str, tuple[str, ...]] = {
    "delivery": (
        # food and groceries brought to the door
        "food=", "meal", "pizza", "takeaway", "take-away", "groceries", "grocery", "courier",
        "essen=", "mahlzeit", "lebensmittel", "einkauf", "lieferdienst",
        "nourriture", "repas", "courses=", "plats=",
        "comida", "compra=", "la compra", "víveres",
        "cibo", "pasto=", "spesa=", "la spesa",
        "refeição", "refeicao", "compras=", "mercado=",
        "eten=", "maaltijd", "boodschappen",
        # getting a traveller or their luggage there
        "flight", "flights", "train=", "trains=", "bus=", "connection=", "boarding", "gate=",
        "flug", "flüge", "zug=", "züge", "anschluss",
        "vol=", "vols=", "train=", "correspondance", "embarquement",
        "vuelo", "tren=", "trenes", "embarque",
        "volo=", "voli=", "treno", "treni", "coincidenza", "imbarco",
        "voo=", "voos=", "trem=", "embarque",
        "vlucht", "trein", "treinen", "aansluiting", "instappen",
    ),
    "defect": (
        # a product's parts
        "camera", "lens=", "photo", "picture", "tyre", "tire=", "tires=", "brake", "engine", "seat=",
        "door=", "button", "cable", "plug=", "strap", "sole=", "seam", "handle=", "wheel", "motor", "charger",
        "kamera", "objektiv", "foto", "reifen", "bremse", "sitz=", "tür=", "knopf", "kabel", "stecker", "griff=",
        "naht=", "sohle", "ladegerät",
        "caméra", "objectif", "photo", "pneu", "frein", "moteur", "siège", "porte=", "bouton", "câble", "prise=",
        "poignée", "roue=", "semelle", "couture", "chargeur",
        "cámara", "objetivo", "rueda", "neumático", "freno", "asiento", "puerta", "botón", "enchufe",
        "costura", "suela", "cargador",
        "fotocamera", "obiettivo", "gomma=", "pneumatic", "freni=", "motore", "sedile", "tasto", "pulsante",
        "cavo=", "spina=", "maniglia", "ruota", "cucitura", "suola", "caricatore",
        "câmera", "camara", "lente=", "freio", "assento", "botão", "cabo=", "tomada", "alça", "roda=",
        "costura", "sola=", "carregador",
        "band=", "rem=", "remmen", "stoel", "deur=", "knop", "stekker", "handvat", "wiel", "naad", "zool",
        "oplader",
    ),
    "outage": (
        # connectivity and streamed services
        "stream", "buffering", "wifi", "wi-fi", "router", "modem", "signal=", "broadband",
        "network", "connection lost", "mobile data",
        "wlan", "signal=", "empfang", "verbindung", "netz=", "mobilfunk",
        "connexion", "réseau", "box internet", "fibre", "4g=", "5g=",
        "señal", "cobertura", "conexión", "red=", "datos móviles",
        "segnale", "connessione", "linea=", "rete=",
        "sinal=", "conexão", "rede=", "wi-fi",
        "signaal", "bereik", "verbinding", "netwerk",
    ),
    "billing": (
        # insurance claims and bank charges
        "insurer", "insurance", "claim=", "claims=", "commission", "interest=", "overdraft", "free=",
        "versicherung", "versicherer", "schadensfall", "zinsen", "dispo", "kosten", "kostenlos", "gratis",
        "assurance", "assureur", "sinistre", "agios", "intérêts", "découvert", "gratuit", "coût",
        "seguro=", "aseguradora", "siniestro", "comisión", "comisiones", "intereses", "descubierto", "costo",
        "assicurazion", "assicurator", "sinistro", "commission", "interessi", "scoperto", "gratuit", "costo",
        "seguradora", "sinistro", "taxa=", "taxas", "juros", "cheque especial", "grátis", "custo=", "custos=",
        "verzekeraar", "verzekering", "schadeclaim", "vergoed", "rente=", "kosten", "roodstand", "gratis",
    ),
    "support": (
        # replies (or none) from a help desk
        "answered", "replied", "responded", "chatbot", "call centre", "helpline", "live chat",
        "geantwortet", "zurückgerufen", "chatbot",
        "répondu", "rappelé", "conseillère", "hotline",
        "contestado", "contestan", "respondido", "responden", "me llamaron",
        "risposto", "rispondono", "richiamato", "centralino",
        "respondeu", "responderam", "retornaram", "retorno=", "ouvidoria",
        "geantwoord", "gereageerd", "teruggebeld", "reageert",
    ),
    "safety": (
        # bodily harm and hazards
        "allerg", "rash=", "vomit", "poisoned", "sparks", "gas leak", "carbon monoxide", "glass in",
        "ausschlag", "erbrochen", "vergiftet", "funken", "gasleck", "glassplitter",
        "éruption", "vomi", "empoisonn", "étincelle", "fuite de gaz", "brûlure",
        "alergia", "sarpullido", "vómit", "vomit", "intoxicad", "chispas", "fuga de gas",
        "allergi", "vomitat", "intossicat", "scintill", "fuga di gas",
        "alergia", "vômit", "vomit", "intoxicad", "faísca", "vazamento de gás",
        "allergie", "uitslag", "overgeven", "vergiftig", "vonken", "gaslek",
    ),
}
