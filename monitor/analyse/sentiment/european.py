"""German, Spanish, Italian, Portuguese and Dutch packs: a customer-experience lexicon and complaint rules.

Each language has a hand-written customer-experience list (below: written for this project, same licence
as the code), because complaints to brands use a small, stable vocabulary (broken, refund, waiting,
cancelled, never again, outage, rude, scam) that general lexicons score timidly or not at all. Where a
general lexicon with a licence that allows shipping exists it is loaded underneath (the hand-written entries
win): Portuguese from LeIA (a VADER adaptation, MIT, ``data/pt_lexicon.tsv``), Dutch from Pattern's
adjective lexicon (PDDL, ``data/nl_lexicon.tsv``); see the ``LICENSE-*`` files beside them. Every entry
is a general word of praise or blame, never a line of an evaluation set. A word the lexicon lacks
retries without accents and without a plural/gender/case ending (``_lookup``), which covers most inflection.

Negation per language: pre-posed negators ("nicht gut", "no funciona", "non funziona", "não chegou",
"niet goed") work like English; German and Dutch also negate the verb *after* it ("gefällt mir nicht",
"werkt niet"), which the engine handles through ``post_negations``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources

from monitor.analyse.sentiment.engine import B_INCR, LangPack, Rule, rule
from monitor.analyse.sentiment.lexicon_en import emoji_valences, split_emoji, symbols


def _words(spec: str) -> dict[str, float]:
    """"word1 word2:-2.0 word3:1.5" → {word: valence}; a bare word takes the previous valence."""
    out: dict[str, float] = {}
    value = 0.0
    for item in spec.split():
        word, _, v = item.partition(":")
        if v:
            value = float(v)
        out[word] = value
    return out


_NEG_STRONG, _NEG, _NEG_MILD, _POS, _POS_STRONG = -2.6, -2.0, -1.3, 1.8, 2.6

DE = _words("""
leckt:-1.8 undicht:-1.8 gerissen:-1.8 zerkratzt:-1.4 gesprungen:-1.2 unvollständig:-1.8 fehlt:-1.0 fehlen:-1.0
preiserhöhung:-1.6 kündigungsgebühr:-1.8 vertragsstrafe:-1.8 zerrissen:-1.6
abgestürzt:-2.0 eingefroren:-1.6 gesperrt:-1.6 blockiert:-1.4 aufgelegt:-1.6 warteschleife:-1.6 unberechtigt:-2.0
gestohlen:-2.4 geklaut:-2.4 missbraucht:-2.2 funkloch:-1.8 stromausfall:-2.2 netzausfall:-2.2 verschwunden:-1.6
ungefragt:-1.6 unerlaubt:-2.0 geschmolzen:-2.2 verschmort:-2.4 rauch:-1.4 explodiert:-2.6 kratzer:-1.2
schlecht:-2.2 schlechter schlechteste schlechtesten miserabel:-2.6 katastrophe katastrophal furchtbar schrecklich
grauenhaft grottig unverschämt:-2.4 unmöglich frechheit skandal skandalös enttäuscht:-2.2 enttäuschend
enttäuschung ärgerlich:-1.8 ärgern verärgert wütend sauer:-1.6 nervig:-1.6 genervt nervt kaputt:-2.2 defekt
beschädigt:-2.0 zerbrochen gebrochen fehlerhaft:-1.8 mangelhaft:-2.2 störung:-2.0 ausfall:-2.2 ausgefallen
absturz:-2.0 abgestürzt stürzt hängt:-1.4 langsam:-1.2 lahm:-1.6 verspätet:-1.6 verspätung:-1.6 verzögerung
storniert:-1.4 storno gekündigt:-1.2 kündigen:-1.6 kündigung:-1.4 rückerstattung:-1.4 erstattung geld:0.0
betrug:-2.8 abzocke:-2.8 betrüger:-2.8 abgezockt:-2.6 unfreundlich:-2.2 inkompetent:-2.2 unhöflich:-2.2
nutzlos:-2.0 unbrauchbar:-2.2 problem:-1.6 probleme:-1.6 fehler:-1.5 mist:-2.0 scheiße:-2.8 scheisse
müll:-2.4 schrott:-2.4 warten:-1.0 wartezeit:-1.4 gehackt:-2.4 datenleck:-2.6 gefährlich:-2.0 gefahr:-1.6
überhitzt:-1.8 brand:0.0 leider:-1.4 schade:-1.4 ärger:-1.8 beschwerde:-1.6 reklamation:-1.6
verloren:-1.4 falsch:-1.4 teuer:-0.8 überteuert:-1.8 traurig:-1.6 schlimm:-2.2 übel:-2.0 hässlich:-1.8
gut:1.9 besser:1.6 beste:2.6 besten toll:2.4 super:2.4 klasse:2.4 prima:2.2 perfekt:2.6 hervorragend:2.8
ausgezeichnet:2.8 exzellent:2.8 großartig:2.8 genial:2.6 fantastisch:2.8 wunderbar:2.6 zufrieden:1.9
glücklich:2.2 froh:1.8 danke:1.5 dank:1.2 lieben:2.4 liebe:2.2 empfehlen:1.8 empfehlenswert:2.2 schnell:1.2
freundlich:1.8 hilfreich:1.8 zuverlässig:1.8 schön:1.9 gerne:1.2 gern:1.2 spitze:2.4 begeistert:2.6
""")

ES = _words("""
gotea:-1.8 rajado:-1.8 rajada:-1.8 rasgado:-1.6 rasgada:-1.6 incompleto:-1.8 incompleta:-1.8 faltan:-1.0
falta:-0.8 penalización:-1.8 desapareció:-1.6 desaparecido:-1.6
colgaron:-1.8 cuelgan:-1.8 colgado:-1.4 bloqueado:-1.6 bloqueada:-1.6 robado:-2.4 robada:-2.4 robaron:-2.4
derretido:-2.4 derritió:-2.4 quemó:-2.2 humo:-1.6 calienta:-1.2 calentó:-1.4 explotó:-2.6 sobrecalienta:-2.0
desaparecido:-1.6 extraviado:-1.8 extraviada:-1.8 indebido:-2.2 indebida:-2.2 cuelga:-1.6 congela:-1.4
malo:-2.2 mala malos malas peor:-2.6 pésimo:-2.8 pésima horrible:-2.6 terrible:-2.6 fatal:-2.4 desastre:-2.6
vergüenza:-2.2 vergonzoso:-2.4 lamentable:-2.4 decepción:-2.2 decepcionado decepcionada decepcionante
molesto:-1.8 molesta enfadado:-2.0 enfadada harto:-2.0 harta cabreado:-2.2 indignado:-2.2 roto:-2.2 rota
rotos rotas dañado:-2.0 dañada defectuoso:-2.2 defectuosa estropeado:-2.0 averiado:-2.0 avería:-2.0
caída:-1.6 caído:-1.6 fallo:-1.8 falla:-1.8 fallos error:-1.6 errores lento:-1.2 lenta retraso:-1.6
retrasado:-1.6 retrasada tarde:-0.8 cancelado:-1.4 cancelada cancelar:-1.4 reembolso:-1.4 devolución:-1.2
estafa:-2.8 timo:-2.6 estafadores:-2.8 robo:-2.6 maleducado:-2.2 grosero:-2.2 grosera incompetente:-2.2
inútil:-2.0 inútiles problema:-1.6 problemas basura:-2.4 mierda:-2.8 esperando:-1.2 espera:-1.0
hackeado:-2.4 hackeada filtración:-2.2 peligroso:-2.0 peligrosa quemado:-1.6 desgraciadamente:-1.4
lamentablemente:-1.4 queja:-1.6 reclamación:-1.6 perdido:-1.4 perdida equivocado:-1.2 caro:-0.8 triste:-1.6
abusivo:-2.2 ridículo:-1.8 cobrado:-0.6
bueno:1.9 buena buenos buenas bien:1.4 mejor:1.8 excelente:2.8 genial:2.6 perfecto:2.6 perfecta
maravilloso:2.8 maravillosa increíble:2.6 fantástico:2.8 fantástica estupendo:2.6 encantado:2.4 encantada
contento:2.0 contenta feliz:2.2 satisfecho:1.9 satisfecha gracias:1.5 encanta:2.4 recomiendo:2.0 rápido:1.2
rápida amable:1.8 útil:1.6 fiable:1.8 bonito:1.8 bonita guay:2.0 top:1.8 súper:2.0 mola:2.0
""")

IT = _words("""
crepato:-1.8 crepata:-1.8 strappato:-1.6 strappata:-1.6 incrinato:-1.8 incrinata:-1.8 incompleto:-1.8
incompleta:-1.8 mancava:-1.0 mancano:-1.0 penale:-1.6 rincaro:-1.6 rincari:-1.6 scomparso:-1.6 scomparsa:-1.6
scadente:-2.2 scadenti bloccato:-1.6 bloccata:-1.6 rubato:-2.4 rubata:-2.4 rubati:-2.4 spento:-1.0 spegne:-1.4
bruciato:-2.2 bruciata:-2.2 fumo:-1.6 esploso:-2.6 surriscalda:-2.0 smarrito:-1.8 smarrita:-1.8 sparito:-1.6
sparita:-1.6 indebito:-2.2 indebita:-2.2 riattaccato:-1.6 crasha:-1.8 impalla:-1.8
cattivo:-2.0 cattiva pessimo:-2.8 pessima pessimi peggiore:-2.6 peggio:-2.4 orribile:-2.6 terribile:-2.6
schifo:-2.8 schifoso:-2.8 vergogna:-2.4 vergognoso:-2.4 scandaloso:-2.6 deluso:-2.2 delusa delusione
deludente arrabbiato:-2.2 arrabbiata furioso:-2.4 stufo:-2.0 stufa rotto:-2.2 rotta rotti danneggiato:-2.0
danneggiata difettoso:-2.2 difettosa guasto:-2.0 guasti:-2.0 disservizio:-2.2 errore:-1.6 errori lento:-1.2
lenta ritardo:-1.6 ritardi annullato:-1.4 annullata cancellato:-1.4 rimborso:-1.4 truffa:-2.8
truffatori:-2.8 furto:-2.6 maleducato:-2.2 scortese:-2.2 incompetente:-2.2 incompetenti inutile:-2.0
problema:-1.6 problemi spazzatura:-2.4 merda:-2.8 attesa:-1.0 aspettando:-1.2 hackerato:-2.4 violato:-2.0
pericoloso:-2.0 pericolosa purtroppo:-1.4 reclamo:-1.6 lamentela:-1.6 perso:-1.2 persa sbagliato:-1.4
caro:-0.6 triste:-1.6 vergognosi ridicolo:-1.8 assurdo:-1.8 insoddisfatto:-2.2
buono:1.9 buona bene:1.4 meglio:1.8 migliore:1.8 ottimo:2.6 ottima ottimi eccellente:2.8 fantastico:2.8
fantastica perfetto:2.6 perfetta meraviglioso:2.8 bellissimo:2.6 bello:1.9 bella felice:2.2 contento:2.0
contenta soddisfatto:1.9 soddisfatta grazie:1.5 adoro:2.4 consiglio:1.4 veloce:1.2 rapido:1.2 gentile:1.8
gentilissimi:2.4 utile:1.6 affidabile:1.8 super:2.0 top:1.8 stupendo:2.6 grande:1.2
""")

PT = _words("""
vaza:-1.8 vazando:-1.8 rachou:-2.0 rachado:-1.8 rachada:-1.8 rasgou:-1.6 rasgado:-1.6 rasgada:-1.6
incompleto:-1.8 incompleta:-1.8 faltando:-1.2 multa:-1.6
travou:-1.8 trava:-1.4 travando:-1.8 bloqueado:-1.6 bloqueada:-1.6 roubado:-2.4 roubada:-2.4 roubaram:-2.4
clonado:-2.4 clonaram:-2.4 estufou:-2.2 estufada:-2.2 fumaça:-1.6 queimou:-2.2 explodiu:-2.6 superaquece:-2.0
sumiu:-1.6 extraviado:-1.8 extraviada:-1.8 indevida:-2.2 indevido:-2.2 desligou:-1.4 desliga:-1.0
mau:-2.0 má ruim:-2.2 péssimo:-2.8 péssima pior:-2.6 horrível:-2.6 terrível:-2.6 vergonha:-2.4
vergonhoso:-2.4 lamentável:-2.4 decepção:-2.2 decepcionado decepcionada decepcionante chateado:-1.8 chateada
irritado:-2.0 revoltado:-2.4 revoltada furioso:-2.4 cansado:-1.0 quebrado:-2.2 quebrada quebrou:-2.2
danificado:-2.0 danificada defeito:-2.0 defeituoso:-2.2 estragado:-2.0 estragada avariado:-2.0 pane:-2.0
falha:-1.8 falhas erro:-1.6 erros lento:-1.2 lenta atraso:-1.6 atrasado:-1.6 atrasada cancelado:-1.4
cancelada cancelar:-1.4 reembolso:-1.4 estorno:-1.4 devolução:-1.2 golpe:-2.6 fraude:-2.8 roubo:-2.6
ladrões:-2.8 enganado:-2.4 grosso:-2.0 mal-educado:-2.2 incompetente:-2.2 incompetentes inútil:-2.0
problema:-1.6 problemas lixo:-2.4 merda:-2.8 porcaria:-2.4 esperando:-1.2 espera:-1.0 hackeado:-2.4
invadida:-2.0 invadido vazamento:-2.2 perigoso:-2.0 perigosa infelizmente:-1.4 reclamação:-1.6
reclamar:-1.4 perdido:-1.4 perdida errado:-1.4 caro:-0.8 triste:-1.6 absurdo:-2.0 ridículo:-1.8
descaso:-2.4 insatisfeito:-2.2 insatisfeita
bom:1.9 boa bons boas bem:1.4 melhor:1.8 ótimo:2.6 ótima excelente:2.8 maravilhoso:2.8 maravilhosa
perfeito:2.6 perfeita incrível:2.6 fantástico:2.8 feliz:2.2 contente:2.0 satisfeito:1.9 satisfeita
obrigado:1.5 obrigada adoro:2.4 amei:2.6 recomendo:2.0 rápido:1.2 rápida gentil:1.8 útil:1.6 confiável:1.8
lindo:2.0 linda top:1.8 show:1.8 parabéns:2.2 legal:1.6
""")

NL = _words("""
lekt:-1.8 lekkage:-1.8 gescheurd:-1.6 gebarsten:-1.8 incompleet:-1.8 onvolledig:-1.8 ontbreekt:-1.2
ontbreken:-1.2 boete:-1.6 opzegkosten:-1.6 prijsverhoging:-1.4 aanmaning:-1.6
vastgelopen:-1.8 crasht:-1.8 geblokkeerd:-1.6 gestolen:-2.4 opgehangen:-1.6 oververhit:-2.0 gesmolten:-2.2
verbrand:-2.2 rook:-1.4 ontploft:-2.6 zoekgeraakt:-1.8 verdwenen:-1.6 onterecht:-2.0 ongevraagd:-1.6
slecht:-2.2 slechte slechter slechtste waardeloos:-2.6 waardeloze belabberd:-2.4 verschrikkelijk:-2.6
vreselijk:-2.6 afschuwelijk:-2.6 schandalig:-2.6 schande:-2.4 teleurgesteld:-2.2 teleurstellend
teleurstelling boos:-2.0 woedend:-2.4 geïrriteerd:-1.8 kapot:-2.2 stuk:-1.0 beschadigd:-2.0 defect:-2.0
storing:-2.0 storingen uitval:-2.0 plat:-0.8 fout:-1.5 fouten traag:-1.4 langzaam:-1.0 vertraging:-1.6
vertraagd:-1.6 geannuleerd:-1.4 annuleren:-1.4 opzeggen:-1.4 terugbetaling:-1.4 oplichting:-2.8
oplichters:-2.8 oplichterij:-2.8 diefstal:-2.6 onbeschoft:-2.2 onvriendelijk:-2.2 incompetent:-2.2
nutteloos:-2.0 probleem:-1.6 problemen rommel:-2.2 troep:-2.2 rotzooi:-2.4 wachten:-1.0 wachttijd:-1.4
gehackt:-2.4 datalek:-2.6 gevaarlijk:-2.0 helaas:-1.4 jammer:-1.4 klacht:-1.6 klachten verloren:-1.4
kwijt:-1.4 verkeerd:-1.4 verkeerde duur:-0.8 triest:-1.6 belachelijk:-2.0 ontevreden:-2.2
goed:1.9 goede beter:1.6 beste:2.6 geweldig:2.8 super:2.4 top:2.2 perfect:2.6 uitstekend:2.8 fantastisch:2.8
prachtig:2.6 mooi:1.9 mooie blij:2.2 tevreden:1.9 gelukkig:2.2 bedankt:1.5 dank:1.2 dankjewel:1.6
aanrader:2.4 aanraden:1.8 snel:1.2 snelle vriendelijk:1.8 vriendelijke behulpzaam:1.8 betrouwbaar:1.8
fijn:1.9 fijne leuk:1.8 leuke heerlijk:2.4
""")


def _aux(negs: str, aux: str, verbs: str) -> str:
    return rf"(?:{negs}) (?:\w+ )?(?:{aux})?(?:{verbs})"


#: (negations, post-negations, boosters (+), dampeners (-), contrast, clause words, rules) per language.
SPECS: dict[str, tuple[str, str, str, str, str, str, tuple[Rule, ...]]] = {
    "de": ("nicht nie niemals kein keine keinen keinem keiner keines nichts ohne weder", "nicht nie niemals",
           "sehr so total extrem echt wirklich absolut völlig komplett richtig mega voll ganz besonders",
           "etwas ziemlich kaum fast", "aber jedoch sondern", "und weil denn obwohl", (
        rule(r"die (?:ich|wir) (?:\w+ )?(?:nicht|nie) (?:\w+ )?(?:gemacht|getätigt|bestellt|autorisiert|veranlasst|erkenne)", -2.4, "die ich nicht gemacht habe", negatable=False),
        rule(r"ohne (?:jede |eine )?(?:vorwarnung|ankündigung|zu fragen|nachfrage|meine zustimmung|bescheid|info)|nicht angekündigt", -2.2, "ohne vorwarnung", negatable=False),
        rule(r"niemand (?:hat )?(?:mir |uns )?(?:\w+ )?(?:erklärt|gesagt|angerufen|zurückgerufen|bescheid gegeben|geantwortet)", -2.2, "niemand hat mir erklärt", negatable=False),
        rule(r"(?:falsche[nrs]?|verkehrte[nrs]?) (?:adresse|artikel|größe|ware|farbe|lieferung|produkt)", -2.0, "falsche adresse", negatable=False),
        rule(r"(?:an den absender zurück|zurück an den absender)", -2.0, "zurück an den absender", negatable=False),
        rule(r"(?:doppelt|zweimal|zu viel) (?:\w+ ){0,3}(?:geld|abgebucht|berechnet|eingezogen|belastet|bezahlt|gezahlt)", -2.4, "doppelt geld eingezogen", negatable=False),
        rule(r"(?:keine|ohne) (?:\w+ )?(?:rückmeldung|reaktion|antwort)", -2.2, "keine rückmeldung", negatable=False),
        rule(r"nichts geht(?: mehr)?", -2.4, "nichts geht", negatable=False),
        rule(r"(?:nie|nicht|niemals) (?:\w+ )?(?:bestellt|abgeschlossen|autorisiert|genehmigt|unterschrieben)", -2.4, "nie bestellt", negatable=False),
        rule(r"als (?:zugestellt|geliefert) (?:markiert|angezeigt|gemeldet)", -2.2, "als zugestellt markiert", negatable=False),
        rule(r"(?:hört|hat) (?:\w+ )?(?:auf|aufgehört) zu (?:funktionieren|laden|kühlen|heizen)", -2.4, "hört auf zu funktionieren", negatable=False),
        rule(r"(?:so|extrem|total|richtig) heiß|feuer gefangen|in flammen|angefangen zu (?:rauchen|qualmen|brennen)", -2.4, "so heiß", negatable=False),
        rule(r"(?:niemand|keiner) (?:geht|nimmt) (?:\w+ ){0,2}(?:ran|ab|ans telefon)", -2.4, "niemand geht ran", negatable=False),
        rule(r"(?:kann|können) (?:mich |uns )?(?:\w+ )?(?:nicht|nie) (?:mehr )?(?:einloggen|anmelden|bezahlen|zugreifen)", -2.2, "kann mich nicht einloggen", negatable=False),
        rule(r"wo (?:ist|bleibt) (?:mein|meine|mein) (?:paket|bestellung|geld|erstattung|lieferung)", -2.0, "wo ist mein paket", negatable=False),
        rule(r"(?:nichts|nix) (?:\w+ )?angekommen", -2.2, "nichts angekommen", negatable=False),
        rule(r"(?:geht|läuft|funktioniert) (?:\w+ ){0,4}(?:gar )?nichts(?: mehr)?", -2.4, "geht nichts mehr", negatable=False),
        rule(r"(?:kein|keinen|ohne) (?:netz|internet|empfang|strom|wlan|verbindung|zugriff)", -2.2, "kein netz", negatable=False),
        rule(r"(?:trotz|nach) (?:der |meiner )?kündigung (?:\w+ ){0,3}(?:abgebucht|berechnet|bezahlt|geld)", -2.6, "trotz kündigung abgebucht", negatable=False),
        rule(r"(?:hängt|steckt|liegt) (?:\w+ ){0,4}(?:fest|rum)", -1.8, "hängt fest", negatable=False),
        rule(r"(?:in der|in die) warteschleife", -1.8, "in der warteschleife", negatable=False),
        rule(r"(?:auf meine kosten|in meinem namen|ohne meine zustimmung)", -2.2, "auf meine kosten", negatable=False),
        rule(r"jemand hat (?:sich )?(?:\w+ ){0,3}(?:eingeloggt|angemeldet|zugriff)", -2.4, "jemand hat sich eingeloggt",
             negatable=False),
        rule(r"(?:funktioniert|geht|läuft|lädt|startet|reagiert) (?:\w+ ){0,3}(?:nicht|nie|überhaupt nicht)(?: mehr)?",
             -2.5, "funktioniert nicht", negatable=False),
        rule(r"(?:nicht|nie|kein) (?:mehr )?(?:funktioniert|angekommen|geliefert|erhalten|bekommen|erstattet)",
             -2.4, "nicht angekommen", negatable=False),
        rule(r"(?:warte|warten|wartet) (?:\w+ ){0,2}(?:immer noch|noch immer|seit|schon)", -2.2, "warte seit",
             negatable=False),
        rule(r"(?:immer noch|noch immer) (?:kein|keine|nicht|nichts)", -2.2, "immer noch nicht", negatable=False),
        rule(r"nie wieder", -2.8, negatable=False),
        rule(r"(?:geld|betrag) (?:\w+ )?(?:zurück|zurückerstattet)", -1.8, "geld zurück", negatable=False),
        rule(r"(?:doppelt|zweimal|zu viel) (?:abgebucht|berechnet|belastet)", -2.6, "doppelt abgebucht",
             negatable=False),
        rule(r"(?:keine|null) (?:antwort|reaktion|rückmeldung|hilfe)", -2.2, "keine antwort", negatable=False),
        rule(r"(?:ist|sind|war) (?:schon wieder |wieder |seit \w+ )?(?:down|offline|ausgefallen|tot)", -2.2,
             "ist down", negatable=False),
        rule(r"(?:nicht|kein) (?:zu )?empfehlen", -2.4, "nicht zu empfehlen", negatable=False),
        rule(r"gefällt (?:\w+ )?(?:nicht|gar nicht|überhaupt nicht)", -2.2, "gefällt nicht", negatable=False),
        rule(r"(?:könnte|hätte) (?:nicht|kaum) (?:glücklicher|zufriedener|besser)", 2.8, "könnte nicht glücklicher",
             negatable=False),
    )),
    "es": ("no nunca jamás jamas nada ningún ninguna ninguno sin ni tampoco", "", "muy tan super súper"
           " realmente totalmente completamente absolutamente demasiado bastante re", "algo poco casi apenas",
           "pero sino aunque", "y porque pues", (
        rule(r"que (?:yo )?(?:no|nunca) (?:he )?(?:hice|hecho|pedí|pedido|autoricé|autorizado|reconozco|contraté)", -2.4, "que no hice", negatable=False),
        rule(r"sin (?:previo )?(?:avisar|aviso|preguntar|consentimiento|explicación)", -2.2, "sin avisar", negatable=False),
        rule(r"nadie (?:me |nos )?(?:lo )?(?:explicó|explica|avisó|avisa|llamó|llama|dijo|dice|informó)", -2.2, "nadie me explicó", negatable=False),
        rule(r"(?:dirección|talla|artículo|producto|color|pedido) (?:equivocad[oa]|incorrect[oa]|errónea|erróneo)", -2.0, "talla equivocada", negatable=False),
        rule(r"(?:subido|subieron|sube|aumentado|aumentaron|suben) (?:\w+ ){0,2}(?:tarifa|precio|precios|cuota|factura)", -1.8, "subieron la tarifa", negatable=False),
        rule(r"(?:pierde|perdiendo) agua", -2.0, "pierde agua", negatable=False),
        rule(r"(?:nunca|no) (?:he |lo |la )?(?:contraté|contratado|pedí|pedido|autoricé|autorizado|solicité|hice)", -2.2, "nunca contraté", negatable=False),
        rule(r"(?:sin mi (?:permiso|autorización|consentimiento))", -2.4, "sin mi permiso", negatable=False),
        rule(r"(?:figura|aparece|pone|marcado) como (?:entregado|entregada|enviado)", -2.2, "aparece como entregado", negatable=False),
        rule(r"dej(?:ó|o|a) de (?:funcionar|cargar|enfriar|encender|andar)", -2.4, "dejó de funcionar", negatable=False),
        rule(r"(?:tan caliente|se prendió fuego|prendió fuego|salió humo|sale humo|echando humo)", -2.4, "salió humo", negatable=False),
        rule(r"nadie (?:me |nos )?(?:contesta|contestó|coge|cogió|atiende|atendió|responde|respondió|soluciona|lo soluciona)", -2.4, "nadie contesta", negatable=False),
        rule(r"no (?:puedo|podemos|consigo) (?:\w+ )?(?:entrar|acceder|iniciar sesión|pagar|conectarme)", -2.2, "no puedo entrar", negatable=False),
        rule(r"(?:dónde|donde) (?:está|esta|están) (?:mi|mis) (?:pedido|paquete|dinero|reembolso)", -2.0, "dónde está mi pedido", negatable=False),
        rule(r"(?:se ha caído|se cayó|está caída|está caído)", -2.2, "se ha caído", negatable=False),
        rule(r"(?:me |nos )?(?:siguen|sigue|continúan|continua|continúa) cobrando", -2.6, "me siguen cobrando", negatable=False),
        rule(r"sin (?:luz|agua|gas|internet|línea|linea|cobertura|conexión|conexion|señal|senal|servicio)", -2.2, "sin luz", negatable=False),
        rule(r"no (?:aparece|aparecen|llega|llegan|carga|cargan|abre|abren|enciende|sale)", -2.0, "no aparece", negatable=False),
        rule(r"(?:me |nos )?(?:cuelgan|colgaron|colgó|han colgado)", -2.0, "me cuelgan", negatable=False),
        rule(r"(?:se )?(?:derritió|quemó|incendió|calentó|prendió fuego)", -2.2, "se derritió", negatable=False),
        rule(r"no (?:me |nos |le )?(?:funciona|funcionan|anda|arranca|carga|responde|enciende|sirve|llega|llegó"
             r"|ha llegado|han llegado|devuelven|contestan|responden|atienden)", -2.5, "no funciona",
             negatable=False),
        rule(r"(?:nunca|todavía no|aún no|aun no|no) (?:me |nos )?(?:ha |han |he )?(?:llegó|llegado|llegaron|recibí"
             r"|recibido|entregado|entregaron|devuelto|reembolsado)", -2.4, "nunca llegó", negatable=False),
        rule(r"(?:sigo|seguimos|llevo|llevamos) (?:\w+ ){0,3}(?:esperando|sin)", -2.4, "sigo esperando",
             negatable=False),
        rule(r"(?:todavía|aún|aun) (?:no|sin|nada|estoy esperando)", -2.2, "todavía no", negatable=False),
        rule(r"nunca más|nunca jamás|jamás volveré|nunca volveré|no vuelvo", -2.8, "nunca más", negatable=False),
        rule(r"(?:quiero|exijo|pido) (?:\w+ )?(?:reembolso|devolución|dinero)", -2.4, "quiero mi dinero",
             negatable=False),
        rule(r"(?:cobrado|cobraron|cobran) (?:\w+ )?(?:dos veces|doble|de más)", -2.6, "cobrado dos veces",
             negatable=False),
        rule(r"(?:sin|ninguna|ni una) (?:respuesta|solución|ayuda)", -2.2, "sin respuesta", negatable=False),
        rule(r"(?:está|están|estuvo|otra vez|de nuevo) (?:\w+ )?(?:caído|caída|caídos|sin servicio|fuera de servicio)",
             -2.4, "caído", negatable=False),
        rule(r"no (?:lo )?(?:recomiendo|recomendaría)", -2.4, "no recomiendo", negatable=False),
        rule(r"no (?:podría|podria|puedo) estar más (?:feliz|contento|contenta|satisfecho|satisfecha)", 2.8,
             "no podría estar más feliz", negatable=False),
        rule(r"no (?:me )?gusta", -2.0, "no me gusta", negatable=False),
    )),
    "it": ("non mai niente nulla nessun nessuno nessuna senza né", "", "molto tanto troppo davvero veramente"
           " proprio assolutamente completamente super", "poco quasi abbastanza", "ma però invece", "e perché",
           (
        rule(r"che (?:io )?non (?:ho )?(?:mai )?(?:fatto|richiesto|ordinato|autorizzato|riconosco|effettuato)", -2.4, "che non ho fatto", negatable=False),
        rule(r"senza (?:alcun )?(?:preavviso|avvisare|avviso|chiedere|consenso|spiegazione)", -2.2, "senza preavviso", negatable=False),
        rule(r"nessuno (?:mi |ci )?(?:ha )?(?:mai )?(?:richiamato|spiegato|avvisato|detto|informato|contattato)", -2.2, "nessuno mi ha richiamato", negatable=False),
        rule(r"(?:indirizzo|taglia|articolo|prodotto|colore) sbagliat[oa]", -2.0, "taglia sbagliata", negatable=False),
        rule(r"(?:ho |avevo |è stato )?disdett[oa]|dopo la disdetta", -1.2, "disdetto", negatable=False),
        rule(r"(?:perde|perdeva) acqua", -2.0, "perde acqua", negatable=False),
        rule(r"(?:arrivato|arrivata|consegnato|consegnata) (?:\w+ )?(?:aperto|aperta|vuoto|vuota|incompleto|incompleta|danneggiat[oa])", -2.2, "arrivato aperto", negatable=False),
        rule(r"(?:mai|non ho) (?:\w+ )?(?:ordinato|sottoscritto|autorizzato|richiesto|attivato)", -2.2, "mai ordinato", negatable=False),
        rule(r"senza (?:la mia )?(?:autorizzazione|permesso|consenso)", -2.4, "senza autorizzazione", negatable=False),
        rule(r"risulta (?:consegnato|consegnata|spedito|spedita)", -2.2, "risulta consegnato", negatable=False),
        rule(r"(?:ha|hanno) smesso di (?:funzionare|caricare|raffreddare|accendersi)", -2.4, "ha smesso di funzionare", negatable=False),
        rule(r"(?:preso fuoco|così caldo|troppo caldo|uscito fumo|esce fumo|fa fumo)", -2.4, "preso fuoco", negatable=False),
        rule(r"(?:impossibile|non riesco a|non riesco ad|non posso) (?:\w+ )?(?:accedere|entrare|pagare|collegarmi|fare il login)", -2.2, "impossibile accedere", negatable=False),
        rule(r"(?:dov\'è|dove è|dov\'e) (?:il mio|la mia|i miei) (?:pacco|ordine|rimborso|soldi)", -2.0, "dov\'è il mio pacco", negatable=False),
        rule(r"(?:rimbalzato|rimbalzata|rimpallato|rimpallata)", -2.0, "rimbalzato", negatable=False),
        rule(r"in tilt", -2.2, negatable=False),
        rule(r"(?:è|sono) giù", -2.2, "è giù", negatable=False),
        rule(r"(?:non ho mai|senza (?:la mia )?|mai) autorizzat\w*", -2.4, "mai autorizzato", negatable=False),
        rule(r"nessuno (?:si è degnato|si degna|mi ha risposto|risponde|mi risponde|ci risponde|richiama)", -2.4, "nessuno risponde", negatable=False),
        rule(r"(?:si è|si sono|si) (?:spento|spenta|spenti|bloccato|bloccata|rotto|rotta|bruciato|bruciata)", -2.0, "si è spento", negatable=False),
        rule(r"senza (?:linea|rete|internet|corrente|luce|segnale|connessione|servizio)", -2.2, "senza linea", negatable=False),
        rule(r"non (?:mi |ci |si )?(?:funziona|funzionano|va|parte|carica|risponde|rispondono|accende|arriva"
             r"|è arrivato|è arrivata|sono arrivati|rimborsano)", -2.5, "non funziona", negatable=False),
        rule(r"(?:non|mai) (?:mi |ci )?(?:è |sono |ho |hanno )?(?:mai |ancora )?(?:arrivat\w*|consegnat\w*|ricevut\w*"
             r"|rimborsat\w*)", -2.4, "non è mai arrivato", negatable=False),
        rule(r"(?:sto ancora|ancora|da) (?:\w+ ){0,2}(?:aspettando|in attesa|giorni|settimane|mesi)", -2.2,
             "sto ancora aspettando", negatable=False),
        rule(r"(?:ancora|tuttora) (?:non|nessun|nessuna|niente)", -2.2, "ancora niente", negatable=False),
        rule(r"mai più", -2.8, negatable=False),
        rule(r"(?:voglio|chiedo|esigo) (?:il |un |i )?(?:rimborso|soldi indietro|miei soldi)", -2.4,
             "voglio il rimborso", negatable=False),
        rule(r"(?:addebitato|addebitati|pagato) (?:\w+ )?(?:due volte|doppio)", -2.6, "addebitato due volte",
             negatable=False),
        rule(r"(?:nessuna|senza) (?:risposta|soluzione|assistenza)", -2.2, "nessuna risposta", negatable=False),
        rule(r"(?:è|sono|di nuovo|ancora) (?:\w+ )?(?:down|offline|fuori servizio|in tilt)", -2.4, "down",
             negatable=False),
        rule(r"non (?:lo )?(?:consiglio|raccomando)", -2.4, "non lo consiglio", negatable=False),
        rule(r"non (?:potrei|potevo) essere più (?:felice|contento|contenta|soddisfatto|soddisfatta)", 2.8,
             "non potrei essere più felice", negatable=False),
        rule(r"non mi piace", -2.0, negatable=False),
    )),
    "pt": ("não nao nunca jamais nada nenhum nenhuma sem nem", "", "muito tão tao super realmente totalmente"
           " completamente absolutamente demais bastante", "pouco quase", "mas porém porem contudo", "e porque",
           (
        rule(r"que (?:eu )?(?:não|nao|nunca) (?:fiz|pedi|autorizei|reconheço|reconheco|contratei)", -2.4, "que eu não fiz", negatable=False),
        rule(r"sem (?:nenhum )?(?:aviso|avisar|ningu[ée]m me avisar|perguntar|consentimento|explicação)", -2.2, "sem aviso", negatable=False),
        rule(r"ningu[ée]m (?:me |nos )?(?:explicou|explica|avisou|avisa|ligou|disse|informou|retornou)", -2.2, "ninguém me explicou", negatable=False),
        rule(r"(?:endereço|tamanho|produto|item|cor|pedido) (?:errad[oa]|trocad[oa])", -2.0, "tamanho errado", negatable=False),
        rule(r"devolvid[oa] (?:ao|para o) remetente", -2.2, "devolvido ao remetente", negatable=False),
        rule(r"(?:aumentaram|aumentou|reajustaram|subiram) (?:\w+ ){0,2}(?:preço|tarifa|mensalidade|valor|fatura)", -1.8, "aumentaram o preço", negatable=False),
        rule(r"(?:nunca|não) (?:\w+ )?(?:contratei|pedi|autorizei|solicitei|assinei|comprei)", -2.2, "nunca contratei", negatable=False),
        rule(r"sem (?:a )?minha (?:autorização|permissão|autorizacao|permissao)", -2.4, "sem minha autorização", negatable=False),
        rule(r"(?:consta|aparece|está|marcado) como entregue", -2.2, "consta como entregue", negatable=False),
        rule(r"(?:entregue|entregaram) (?:\w+ ){0,2}(?:endereço errado|outro endereço|lugar errado)", -2.4, "endereço errado", negatable=False),
        rule(r"parou de (?:funcionar|gelar|carregar|ligar|esquentar|responder)", -2.4, "parou de funcionar", negatable=False),
        rule(r"(?:esquentou|pegou fogo|saiu fumaça|saindo fumaça|derreteu)", -2.4, "pegou fogo", negatable=False),
        rule(r"(?:cai|caiu) a (?:ligação|ligacao|chamada)", -2.0, "cai a ligação", negatable=False),
        rule(r"não (?:consigo|conseguimos|dá para) (?:\w+ )?(?:entrar|acessar|logar|pagar)", -2.2, "não consigo entrar", negatable=False),
        rule(r"(?:cadê|onde está|onde esta) (?:o |a )?(?:meu|minha|meus) (?:pedido|encomenda|dinheiro|reembolso)", -2.0, "cadê meu pedido", negatable=False),
        rule(r"(?:continuam|continua|seguem|segue) (?:me )?cobrando", -2.6, "continuam cobrando", negatable=False),
        rule(r"ningu[ée]m (?:me |nos )?(?:atende|atendeu|responde|respondeu|resolve|resolveu|liga|ligou)", -2.4, "ninguém atendeu", negatable=False),
        rule(r"(?:parad[oa]|travad[oa]) (?:há|faz|desde)", -2.0, "parada há dias", negatable=False),
        rule(r"(?:desliga|desligou|reinicia|reiniciou) sozinh[oa]", -2.2, "desliga sozinho", negatable=False),
        rule(r"sem (?:luz|água|agua|internet|sinal|linha|conexão|conexao|serviço|servico|energia)", -2.2, "sem luz", negatable=False),
        rule(r"(?:não|nao) (?:\w+ )?(?:funciona|funcionam|liga|carrega|responde|respondem|chegou|chega|entregaram"
             r"|atende|atendem|devolveram|resolveram|resolve)", -2.5, "não funciona", negatable=False),
        rule(r"nunca (?:\w+ )?(?:chegou|chegaram|recebi|entregaram|devolveram|reembolsaram|responderam)", -2.4,
             "nunca chegou", negatable=False),
        rule(r"(?:ainda|até agora) (?:não|nao|nada|sem|esperando)", -2.2, "ainda não", negatable=False),
        rule(r"(?:esperando|aguardando|espero) (?:\w+ ){0,2}(?:há|faz|desde|dias|semanas|meses)", -2.2,
             "esperando há dias", negatable=False),
        rule(r"nunca mais", -2.8, negatable=False),
        rule(r"(?:quero|exijo|peço) (?:o |meu |um )?(?:reembolso|dinheiro de volta|estorno)", -2.4,
             "quero meu dinheiro", negatable=False),
        rule(r"(?:cobrado|cobraram|cobrada) (?:\w+ )?(?:duas vezes|em dobro|a mais)", -2.6, "cobrado duas vezes",
             negatable=False),
        rule(r"(?:sem|nenhuma) (?:resposta|solução|retorno|atendimento)", -2.2, "sem resposta", negatable=False),
        rule(r"(?:está|estão|caiu|de novo|outra vez) (?:\w+ )?(?:fora do ar|caído|caiu|offline|sem sinal)", -2.4,
             "fora do ar", negatable=False),
        rule(r"fora do ar", -2.4, negatable=False),
        rule(r"(?:não|nao) (?:recomendo|indico)", -2.4, "não recomendo", negatable=False),
        rule(r"(?:não|nao) (?:poderia|podia) estar mais (?:feliz|contente|satisfeito|satisfeita)", 2.8,
             "não poderia estar mais feliz", negatable=False),
        rule(r"(?:não|nao) gost(?:ei|o)", -2.0, "não gostei", negatable=False),
    )),
    "nl": ("niet nooit geen niks niets zonder noch", "niet nooit", "heel erg zeer echt zo super totaal"
           " absoluut compleet ontzettend enorm hartstikke", "beetje nogal vrij bijna", "maar echter", "en omdat want",
           (
        rule(r"die (?:ik|wij) (?:\w+ )?(?:niet|nooit) (?:heb |hebben )?(?:gedaan|besteld|herken|gemachtigd|aangevraagd)", -2.4, "die ik niet heb gedaan", negatable=False),
        rule(r"zonder (?:enige )?(?:aankondiging|waarschuwing|te vragen|bericht|overleg|uitleg)", -2.2, "zonder aankondiging", negatable=False),
        rule(r"niemand (?:heeft |die )?(?:me |mij |ons )?(?:\w+ )?(?:uitgelegd|gebeld|teruggebeld|verteld|laten weten|geantwoord)", -2.2, "niemand heeft gebeld", negatable=False),
        rule(r"verkeerde (?:adres|artikel|maat|product|kleur|bestelling|pakket)", -2.0, "verkeerde adres", negatable=False),
        rule(r"(?:heb|had|hebben) (?:\w+ ){0,2}opgezegd", -1.2, "heb opgezegd", negatable=False),
        rule(r"hoe laat", 0.0, "hoe laat (what time)", negatable=False),
        rule(r"(?:nooit|niet) (?:\w+ )?(?:besteld|afgesloten|gemachtigd|aangevraagd|toegestemd)", -2.2, "nooit besteld", negatable=False),
        rule(r"(?:staat|stond) (?:\w+ ){0,3}op (?:bezorgd|afgeleverd)", -2.2, "staat op bezorgd", negatable=False),
        rule(r"(?:is|zijn) er (?:\w+ )?(?:nog steeds |nog )?niet", -2.0, "is er nog steeds niet", negatable=False),
        rule(r"(?:gestopt|opgehouden) met (?:werken|laden|koelen)|doet het niet meer", -2.4, "gestopt met werken", negatable=False),
        rule(r"(?:zo heet|vlam gevat|in brand gevlogen|begon te roken|rook kwam)", -2.4, "zo heet", negatable=False),
        rule(r"niemand (?:neemt|nam) (?:\w+ ){0,2}op", -2.4, "niemand neemt op", negatable=False),
        rule(r"(?:kan|kunnen) (?:\w+ )?(?:niet|nooit) (?:meer )?(?:inloggen|betalen|erin|bij mijn)", -2.2, "kan niet inloggen", negatable=False),
        rule(r"waar (?:is|blijft) (?:mijn|ons) (?:pakket|bestelling|geld|terugbetaling)", -2.0, "waar is mijn pakket", negatable=False),
        rule(r"(?:in rekening gebracht|afgeschreven) (?:\w+ ){0,2}(?:twee keer|dubbel|zonder)", -2.4, "dubbel in rekening", negatable=False),
        rule(r"(?:twee keer|dubbel) (?:\w+ ){0,2}in rekening", -2.4, "twee keer in rekening", negatable=False),
        rule(r"niets (?:laadt|werkt|doet het)", -2.2, "niets laadt", negatable=False),
        rule(r"(?:niks|niets|nog niks|nog niets) (?:\w+ )?(?:gekregen|ontvangen|gehoord)", -2.2, "niks ontvangen", negatable=False),
        rule(r"geen (?:internet|bereik|verbinding|stroom|netwerk|signaal|wifi|tv|beeld)", -2.2, "geen internet", negatable=False),
        rule(r"(?:valt|viel|vallen) (?:\w+ ){0,2}uit", -2.0, "valt steeds uit", negatable=False),
        rule(r"(?:in de wacht|opgehangen|hing (?:\w+ )?op|hangen ze op)", -1.8, "in de wacht", negatable=False),
        rule(r"(?:klaar met|helemaal klaar met|ben het zat|ben het beu|spuugzat)", -2.4, "klaar met", negatable=False),
        rule(r"(?:loopt|liep|blijft) (?:\w+ )?(?:vast|hangen)", -1.8, "loopt vast", negatable=False),
        rule(r"zonder (?:mijn )?toestemming", -2.2, "zonder toestemming", negatable=False),
        rule(r"(?:na|ondanks) (?:mijn |de |onze )?(?:opzegging|annulering)", -2.2, "na mijn opzegging", negatable=False),
        rule(r"iemand (?:heeft |is )?(?:\w+ ){0,2}(?:ingelogd|ingebroken|toegang)", -2.4, "iemand heeft ingelogd",
             negatable=False),
        rule(r"(?:werkt|doet|start|laadt|reageert|functioneert) (?:\w+ ){0,2}(?:niet|nooit)(?: meer)?", -2.5,
             "werkt niet", negatable=False),
        rule(r"(?:niet|nooit|nog niet) (?:\w+ )?(?:ontvangen|geleverd|aangekomen|bezorgd|terugbetaald|teruggestort)",
             -2.4, "niet ontvangen", negatable=False),
        rule(r"(?:wacht|wachten|wachtend) (?:\w+ ){0,3}(?:nog steeds|al|sinds|weken|dagen)", -2.2, "wacht al weken",
             negatable=False),
        rule(r"nog steeds (?:geen|niet|niks|niets)", -2.2, "nog steeds niet", negatable=False),
        rule(r"nooit meer", -2.8, negatable=False),
        rule(r"(?:geld|bedrag) (?:\w+ )?terug", -1.8, "geld terug", negatable=False),
        rule(r"(?:dubbel|twee keer|teveel) (?:\w+ )?(?:afgeschreven|betaald|gefactureerd)", -2.6,
             "dubbel afgeschreven", negatable=False),
        rule(r"(?:geen|zonder) (?:reactie|antwoord|hulp|oplossing)", -2.2, "geen reactie", negatable=False),
        rule(r"(?:is|zijn|ligt|liggen|alweer|weer) (?:\w+ )?(?:down|plat|offline|eruit)", -2.2, "ligt plat",
             negatable=False),
        rule(r"(?:niet|geen) aan te raden", -2.4, "niet aan te raden", negatable=False),
        rule(r"(?:kon|kan) (?:niet|nooit) (?:blijer|gelukkiger|tevredener|beter)", 2.8, "kon niet blijer",
             negatable=False),
    )),
}


def _strip_accents(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")


_ENDINGS = {
    "de": ("en", "es", "er", "em", "e", "s", "n"), "nl": ("en", "e", "s"),
    "es": ("es", "s", "a", "o"), "it": ("i", "e", "a", "o"), "pt": ("es", "s", "a", "o"),
}


def _make_lookup(code: str) -> Callable[[Mapping[str, float], str], float | None]:
    endings = _ENDINGS[code]
    vowel_swap = code in ("es", "it", "pt")
    compounds = code in ("de", "nl")

    def lookup(lexicon: Mapping[str, float], word: str) -> float | None:
        """Unknown word: retry without an inflectional ending ("kaputte" → "kaputt", "rotas" → "rota"/"roto");
        in German and Dutch, a compound takes the value of its last part ("Internetstörung" → "störung")."""
        if len(word) <= 4:
            return None
        for cut in endings:
            if word.endswith(cut):
                stem = word[: -len(cut)]
                hit = lexicon.get(stem)
                if hit is not None:
                    return hit
                if vowel_swap:
                    for v in ("o", "a", "e"):
                        hit = lexicon.get(stem + v)
                        if hit is not None:
                            return hit
        if compounds and len(word) >= 9:        # the last part of a compound, at least six letters long
            for start in range(3, len(word) - 5):
                hit = lexicon.get(word[start:])
                if hit is not None:
                    return hit
        return None

    return lookup


def _shipped(code: str) -> dict[str, float]:
    """A third-party lexicon shipped as ``data/<code>_lexicon.tsv`` (word TAB valence), when there is one."""
    path = resources.files("monitor.analyse.sentiment").joinpath(f"data/{code}_lexicon.tsv")
    if not path.is_file():
        return {}
    out: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, sep, value = line.partition("\t")
        if sep and not line.startswith("#"):
            try:
                out[word] = float(value)
            except ValueError:
                continue
    return out


_DE_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _ascii_alias(code: str, word: str) -> str:
    """How the word is typed without accents. German writes umlauts as ae/oe/ue: stripping them would make
    "schön" (beautiful) out of "schon" (already)."""
    return word.translate(_DE_ASCII) if code == "de" else _strip_accents(word)


def _lexicon(code: str) -> dict[str, float]:
    words = {"de": DE, "es": ES, "it": IT, "pt": PT, "nl": NL}[code]
    base = {**_shipped(code), **words}     # the hand-written customer-experience entries win
    return {**{_ascii_alias(code, k): v for k, v in base.items()}, **base}


@lru_cache(maxsize=8)
def pack(code: str) -> LangPack:
    """One language's pack, built once per process."""
    negs, post, boost_up, boost_down, contrast, clause, rules = SPECS[code]
    emoji = emoji_valences()
    lexicon = {**emoji, **_lexicon(code)}
    boosters = {w: B_INCR for w in boost_up.split()} | {w: -B_INCR for w in boost_down.split()}
    boosters |= {_ascii_alias(code, k): v for k, v in boosters.items()}
    negations = frozenset(negs.split()) | {_ascii_alias(code, w) for w in negs.split()}
    return LangPack(
        code=code,
        lexicon=lexicon,
        negations=negations,
        boosters=boosters,
        contrast=frozenset(contrast.split()),
        rules=rules,
        prepare=lambda text: split_emoji(text, emoji),
        fallback=_make_lookup(code),
        symbols=symbols(lexicon),
        post_negations=frozenset(post.split()),
        clause_words=frozenset(clause.split()),
    )


LANGUAGES = tuple(SPECS)
