"""French language pack: the vaderSentiment-fr lexicon plus French complaint rules and negation.

Why a copied lexicon instead of the ``vaderSentiment-fr`` package: the package's analyzer fuzzy-matches
every unknown word against the whole lexicon (slow), appends ``/`` to ``sys.path`` at import time and pulls
in ``fuzzywuzzy`` (GPL). We only need its data, so ``data/fr_lexicon.txt`` is shipped here under its MIT
licence (see ``data/LICENSE-fr_lexicon.txt``) and scored by our own engine.

French specifics handled here: elisions are expanded ("n'est" → "ne est") so negators are separate
tokens; "ne … plus" negates while a bare "plus" means "more"; unknown words retry without accents and
without a plural/feminine ending, which covers most inflection the lexicon lacks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from monitor.analyse.sentiment.engine import B_INCR, LangPack, rule
from monitor.analyse.sentiment.european_words import words
from monitor.analyse.sentiment.frames import anything_but, asking, frame_rules, irony, irrealis
from monitor.analyse.sentiment.lexicon_en import emoji_valences, split_emoji, symbols
from monitor.analyse.sentiment.topics import drop_topics

#: Customer-experience words; override the (often timid) lexicon values, e.g. "horrible" is -0.7 there.
CX_LEXICON: dict[str, float] = {
    "impoli": -2.2, "impolie": -2.2, "inutile": -2.0, "inutiles": -2.0, "nul": -2.2, "nulle": -2.2,
    "horrible": -2.6, "lamentable": -2.6, "catastrophique": -2.8, "honteux": -2.4, "scandaleux": -2.6,
    "inadmissible": -2.6, "inacceptable": -2.4, "déçu": -2.2, "déçue": -2.2, "déception": -2.2,
    "décevant": -2.2, "cassé": -2.0, "cassée": -2.0, "abîmé": -1.8, "abîmée": -1.8, "endommagé": -1.9,
    "défectueux": -2.1, "défectueuse": -2.1, "panne": -2.0, "bug": -1.5, "bugs": -1.5, "bogue": -1.5,
    "plante": -1.2, "planté": -1.8, "lent": -1.2, "lente": -1.2, "retard": -1.6, "arnaque": -2.8,
    "escroquerie": -2.8, "remboursement": -1.4, "rembourser": -1.2, "remboursé": -0.8, "piraté": -2.2,
    "piratage": -2.2, "fuite": -1.6, "dangereux": -2.0, "dangereuse": -2.0, "rappel": -0.8,
    "annuler": -1.2, "annulé": -1.2, "annulée": -1.2, "résilier": -1.8, "résiliation": -1.5,
    "injoignable": -2.2, "incompétent": -2.2, "incompétents": -2.2, "pire": -2.6, "problème": -1.6,
    "problèmes": -1.6, "souci": -1.2, "soucis": -1.2, "galère": -1.8, "attente": -1.0,
    "content": 1.8, "contente": 1.8, "satisfait": 1.8, "satisfaite": 1.8, "génial": 2.6, "géniale": 2.6,
    "parfait": 2.4, "parfaite": 2.4, "excellent": 2.8, "merci": 1.6, "top": 1.8, "super": 2.0, "bravo": 2.2,
    "rapide": 1.2, "efficace": 1.8, "mal": -1.4, "nouveau": 0.0, "nouvelle": 0.0, "nouveaux": 0.0,
    "coupé": -1.4, "coupée": -1.4, "coupure": -1.8,
    "fuit": -1.8, "fissuré": -1.8, "fissurée": -1.8, "déchiré": -1.6, "déchirée": -1.6, "rayé": -1.2, "rayée": -1.2,
    "gonflé": -1.6, "gonflée": -1.6, "brûlant": -1.8, "brûlante": -1.8, "incomplet": -1.8, "incomplète": -1.8, "manquant": -1.2, "manquants": -1.2, "disparu": -1.6, "disparue": -1.6,
}

#: Review words (films, books, shows, meals, products) that the vaderSentiment-fr lexicon lacks or reads the wrong
#: way round ("mièvre" positive, "époustouflant" and "bouleversant" negative). Written for this project from
#: everyday French, not from any labelled line; VADER's -4..4 scale, a bare word takes the previous value.
REVIEW_LEXICON = words("""
ennuyeux:-2.0 ennuyeuse ennuyant ennuyante inintéressant inintéressante médiocre navet:-2.4 daube nanar:-1.8
soporifique:-2.2 assommant assommante bâclé:-2.0 indigeste:-1.8 interminable insipide fastidieux fastidieuse
exaspérant:-2.0 exaspérante grotesque:-1.8 raté:-1.8 ratée illisible poussif:-1.6 poussive fade lourdingue
mièvre:-1.5 niais niaise gnangnan cucul décousu:-1.5 décousue laborieux laborieuse bancal bancale oubliable
ennui incohérent:-1.4 incohérente incohérences incohérence invraisemblable caricatural caricaturale pompeux
pompeuse pénible:-1.6 agaçant agaçante répétitif:-1.3 répétitive prévisible convenu:-1.2 convenue superficiel
superficielle creux:-1.3 creuse longuet:-1.2 longuette longueurs surcoté:-1.6 surcotée surestimé surestimée
survendu survendue bof:-1.2 dispensable:-1.0 décevoir:-1.8 déçoit ennuyé:-1.6 ennuyée endormi:-1.2 endormie abandonné:-1.2
captivant:2.2 captivante passionnant passionnante haletant haletante bluffant bluffante jubilatoire
envoûtant envoûtante réjouissant réjouissante épatant épatante inoubliable grandiose virtuose
magistral:2.6 magistrale époustouflant époustouflante sublime merveille régal
bouleversant:2.0 bouleversante poignant poignante émouvant émouvante touchant:1.8 touchante attachant
attachante savoureux savoureuse incontournable pépite prenant:1.6 prenante addictif addictive percutant
percutante lumineux lumineuse maîtrisé maîtrisée dévoré:1.4 rythmé:1.2 rythmée fluide:1.0
navrant:-2.2 navrante nulissime:-2.6 nullissime exécrable:-2.6 risible:-1.6 lassant:-1.6 lassante neuneu
ringard:-1.4 ringarde
""")

#: Everyday blame and insults of tweets and comments that the vaderSentiment-fr lexicon lacks or scores timidly
#: ("stupide" -0.4, "ridicule" -0.6, "merde" -0.5, "corrompu" -1.0). Written for this project from everyday French,
#: not from any labelled line; VADER's -4..4 scale, a bare word takes the previous value. The last lines give a
#: masculine singular the value the lexicon gives its other forms ("mauvais" -1.2 but "mauvaise" and "mauvaises"
#: -2.6; "impressionnant" 1.2 but "impressionnante" 2.5).
GENERAL_LEXICON = words("""
affligeant:-2.4 affligeante affligeants pitoyable lamentablement:-2.0 gâchis:-2.0 magouille magouilles
corrompu:-2.2 corrompus corrompue corrompues corruption:-2.0 imposture mensonge mensonges mentir:-1.8 mentent
lâcheté:-2.0 hypocrisie aberrant:-2.2 aberrante aberration:-2.0 démagogie:-1.6 démago saugrenu:-1.4 saugrenue
pitrerie:-1.5 pitreries ridicule:-2.0 ridicules stupide stupides idiot idiote idiots idiotes débile débiles
crétin:-2.2 crétins abruti abrutis connerie:-2.2 merde:-2.0 dégueulasse:-2.6 dégoûté:-2.0 dégoûtée
dégoûtant:-2.2 dégoûtante relou:-1.6 saoulant:-1.8 soûlant énervé énervée injuste:-1.8 injustice:-2.0
inquiétant:-1.6 inquiétante hélas:-1.4 malheureusement:-1.2 menace:-1.2 menacé menacée menacés menacées
pollution:-1.6 polluant:-1.4 détruit:-1.8 épidémie:-1.6 pénalisé:-1.4 pénalisée pénalise pénaliser
honteuse:-2.4 honteuses nullité:-2.2 polémique:-1.0
mauvais:-2.6 violent:-2.9 furieux:-2.7 maltraité:-2.6 pourri:-2.5 rejeté:-2.3 agressé:-1.9
prétentieux:-1.8 prétentieuses frustrée:-2.4 frustrées imbécile:-2.2 imbéciles gai:2.9 loyal:2.1 attractif:1.9
gagnant:2.1 encourageant:2.5 impressionnant:2.5 triomphant:2.4 béni:2.2
toxique:-1.6 toxiques gênant:-1.5 gênante gênants gênantes affreux:-2.2 mépris:-1.8 méprisant méprisante minable:-2.2
minables tristesse:-1.6 défaveur:-1.5 défaillance:-1.6 défaillances hérésie:-1.8
célèbre:1.0 promesses:0.5 promesse sauver:1.0
bordel:-1.8 bouffon:-1.8 bouffons guignol guignols escroc:-2.4 escrocs incapable:-1.8 incapables amateurisme:-2.0
indifférence:-1.4 regrettable:-1.6 déplore:-1.8 désastreux:-2.6 désastreuse naufrage:-2.0 mascarade foutaise foutaises
bêtise:-1.6 bêtises:-1.4 abus:-1.8 abusif abusive abusifs naze:-1.6 nazes pitié:-1.2 faute disparition:-1.0
glauque:-1.6 glauques sauvage:-0.6
convaincant:1.6 convaincante convaincants convaincantes crédible:1.2 crédibles cohérent cohérente cohérents réaliste:1.0
réalistes pertinent:1.4 pertinente pertinents pertinentes professionnel professionnelle professionnels serviable:1.8
serviables poli:1.2 polie polis fiable:1.4 fiables suffisant:0.8 suffisante suffisants
chialer:-1.6 plombé:-1.4 plombe sabote:-2.4 gâche:-2.2 ruine:-1.8 sacrifie:-1.2 sacrifier sacrifié trahison:-2.4
bafoué:-2.2 bafoue bafoués bafouée négligence:-2.0 laxisme:-1.8 laxiste régression:-1.6 reculade consternant:-2.2
consternante échoue:-1.8 échoué échouer nase:-1.6 foirage:-2.0 ratés:-1.8
valeurs:0.5 acquérir obtenu optimiser:0.8 lauréat:1.2 lauréats
""")

NEGATIONS = frozenset({"pas", "jamais", "rien", "aucun", "aucune", "aucunement", "nullement", "sans", "ni", "guère"})

BOOSTERS: dict[str, float] = {
    w: B_INCR for w in (
        "très", "trop", "vraiment", "tellement", "extrêmement", "totalement", "complètement", "absolument",
        "super", "hyper", "vachement", "carrément", "tout",
    )
} | {w: -B_INCR for w in ("assez", "peu", "plutôt", "presque", "légèrement")}

RULES = (
    # a problem solved is praise, as in English ("problème résolu en deux minutes, merci"); a negator inside denies it
    rule(r"(?:problème|probleme|problèmes|souci|soucis|panne|bug|incident) (?:(?!(?:pas|jamais|toujours|rien)\b)\w+ ){0,5}"
         r"(?:résolu|résolue|résolus|resolu|réglé|réglée|regle|corrigé|corrigée|réparé|réparée)", 1.8, "problème résolu",
         negatable=False),
    rule(r"que (?:je |j'?)?(?:ne |n'?)?(?:ai |avais )?(?:pas|jamais) (?:\w+ )?(?:fait|faite|commandé|autorisé|demandé)",
         -2.4, "que je n'ai pas fait", negatable=False),
    rule(r"sans (?:mon |ma |aucun |aucune |notre )?(?:accord|autorisation|consentement|explication|prévenir|préavis"
         r"|avertissement|permission)", -2.2,
         "sans mon accord", negatable=False),
    rule(r"(?:zéro|zero) (?:réponse|reponse|retour|nouvelles|aide)", -2.4, "zéro réponse", negatable=False),
    rule(r"(?:mauvaise?|mauvais) (?:adresse|article|taille|produit|couleur|commande)", -2.0, "mauvaise adresse",
         negatable=False),
    rule(r"frais de (?:résiliation|resiliation|dossier|retard)", -1.8, "frais de résiliation", negatable=False),
    rule(r"(?:plus de|pas de) (?:réseau|reseau|connexion|internet|courant|électricité|electricite)", -2.2,
         "plus de réseau", negatable=False),
    rule(r"impossible de (?:me |se |nous )?(?:travailler|connecter|accéder|acceder|joindre|payer|commander|appeler"
         r"|utiliser|ouvrir)", -2.2, "impossible de se connecter", negatable=False),
    rule(r"personne ne (?:répond|repond|rappelle|décroche|decroche|m'aide|me aide)", -2.4, "personne ne répond",
         negatable=False),
    # "je ne pourrais pas être plus heureux": a denied comparative is praise
    rule(r"(?:ne )?(?:pourrais|pourrait|pourrions|pouvais|pouvait|peux|peut|aurais pu|aurait pu) (?:pas|jamais)"
         r" (?:être|etre|avoir été|avoir ete) (?:plus|mieux|davantage) (?:\w+ )?(?:heureux|heureuse|heureuses|content"
         r"|contente|contents|satisfait|satisfaite|satisfaits|ravi|ravie|ravis|servi|servie)", 2.8,
         "ne pourrais pas être plus heureux", negatable=False),
    rule(r"(?:ne )?(?:pourrais|pourrait|pouvais|pouvait|peux|peut) (?:pas|jamais) (?:être|etre) pire", -2.8,
         "ne pourrait pas être pire", negatable=False),
    # "pas terrible", "pas top", "pas ouf": French understatement for "poor"
    rule(r"pas (?:très |trop |si |vraiment )?(?:terrible|top|ouf|fou|génial|genial|fameux|folichon|glorieux)", -1.8,
         "pas terrible", negatable=False),
    rule(r"(?:aucun|pas de|sans) (?:remboursement|réponse|reponse|nouvelles|suivi|explication|excuse|excuses)", -2.2,
         "pas de remboursement", negatable=False),
    # sentence adverbs of candour carry no sentiment of their own ("honnêtement, le service était lent")
    rule(r"honnêtement|honnetement|sincèrement|sincerement|à vrai dire|a vrai dire|pour être honnête|pour etre honnete", 0.0, "honnêtement", negatable=False),
    rule(r"pas mal de", 0.0, "pas mal de", negatable=False),
    rule(r"pas mal", 1.2, "pas mal", negatable=False),
    rule(r"ne (?:\w+ )?(?:fonctionne|marche|démarre|charge|répond|s'allume|se allume)s? (?:plus|pas)", -2.5, "ne fonctionne plus", negatable=False),
    rule(r"(?:fonctionne|marche) (?:plus|pas)", -2.5, "ne marche pas", negatable=False),
    rule(r"(?:a |est )?tombée? en panne", -2.5, "en panne", negatable=False),
    rule(r"toujours pas (?:reçu|livré|arrivé|de réponse|de nouvelles|remboursé)", -2.5, "toujours pas reçu", negatable=False),
    rule(r"(?:je |j'?)?(?:attends|attend) (?:toujours|encore|depuis)", -2.2, "j'attends toujours", negatable=False),
    rule(r"depuis (?:\d+|deux|trois|quatre|plusieurs) (?:jours|semaines|mois)", -1.4, "depuis des semaines"),
    rule(r"en attente", -1.6, "en attente"),
    rule(r"(?:débité|prélevé|facturé)e?s? (?:deux fois|en double|à tort)", -2.6, "débité deux fois", negatable=False),
    rule(r"plus jamais", -2.8, negatable=False),
    rule(r"(?:je )?(?:ne )?(?:recommande|conseille) pas", -2.4, "ne recommande pas", negatable=False),
    rule(r"(?:fuite|vol) de données", -2.6, "fuite de données"),
    rule(r"service (?:client|clientèle|après-vente) (?:\w+ )?(?:inexistant|nul|injoignable|incompétent|lamentable)", -2.8, "service client nul"),
    rule(r"(?:aucune|pas de) réponse", -2.2, negatable=False),
    rule(r"(?:je veux|je demande|exige) (?:être )?(?:un )?rembours", -2.4, "je veux être remboursé", negatable=False),
    rule(r"du tout", 0.0, "du tout", negatable=False),
    # reviews (films, books, shows): the verdicts French reviewers write in set phrases
    rule(r"chefs?-de (?:œuvre|oeuvre)", 2.8, "chef-d'œuvre"),
    rule(r"coups? de (?:cœur|coeur)", 2.4, "coup de cœur"),
    rule(r"(?:à|a) (?:voir|lire|découvrir|decouvrir|écouter|ecouter) (?:absolument|d'urgence|sans hésiter)", 2.4,
         "à voir absolument", negatable=False),
    rule(r"tirée?s? par les cheveux", -1.8, "tiré par les cheveux"),
    rule(r"(?:une |quelle |grosse |belle )?perte de temps", -2.2, "perte de temps", negatable=False),
    rule(r"(?:ne |n'?)?(?:ai|avons|a) (?:pas|jamais) (?:du tout )?(?:accroché|adhéré|réussi à (?:le |la )?finir)", -1.8,
         "pas accroché", negatable=False),
    rule(r"(?:passez|passe|passer) (?:votre|ton|son|mon) chemin", -2.0, "passez votre chemin", negatable=False),
    rule(r"(?:à|a) éviter", -2.0, "à éviter", negatable=False),
    rule(r"ne (?:décolle|decolle) (?:jamais|pas)", -1.6, "ne décolle jamais", negatable=False),
    # tweets and comments: everyday idioms of blame
    rule(r"(?:aucune|sans) (?:honte|scrupules?|vergogne)", -2.2, "aucune honte", negatable=False),
    rule(r"(?:est|du|grand|vraiment|complètement|totalement) (?:du )?(?:grand )?ne importe quoi", -2.0,
         "du grand n'importe quoi", negatable=False),
    rule(r"foutage de gueule|se (?:fout|foutent|moque|moquent) (?:de nous|du monde|de notre gueule)", -2.4,
         "foutage de gueule", negatable=False),
    rule(r"promesses? non tenues?", -2.0, "promesses non tenues", negatable=False),
    rule(r"mises? en demeure", -1.6, "mise en demeure", negatable=False),
    rule(r"feux? verts?", 0.8, "feu vert", negatable=False),
    # a slogan of opposition: "non à la fermeture", "non aux éoliennes"
    rule(r"non (?:à|a|au|aux) (?:la |le |les |l'|ce |cette |ces )?\w+", -1.6, "non à", negatable=False),
    # "bien, sans plus": lukewarm ("sans plus attendre" is "without delay")
    rule(r"sans plus(?! attendre| tarder| de| aucun| rien)", -1.4, "sans plus", negatable=False),
    # "foutu" is "done for" (-0.8 to -2.2 in the lexicon), but "bien foutu" is well made
    rule(r"(?:très |vraiment |super |plutôt |assez )?bien (?:foutue?s?|fichue?s?)", 1.8, "bien foutu", negatable=False),
    rule(r"mal (?:foutue?s?|fichue?s?)", -1.8, "mal foutu", negatable=False),
    # "j'attends la suite avec impatience": eagerness, not irritation ("impatience" is -1.8 in the lexicon)
    rule(r"avec (?:une |beaucoup de |grande |une grande |une certaine )?impatience|impatiente?s? de (?:lire|voir|découvrir"
         r"|decouvrir|connaître|connaitre|retrouver|goûter|gouter|essayer)", 1.4, "avec impatience", negatable=False),
    rule(r"(?:un|le|au) comble", -1.8, "c'est un comble", negatable=False),
    rule(r"(?:ce est|est) une (?:blague|plaisanterie)|vous (?:plaisantez|rigolez)|on (?:croit|croirait) rêver"
         r"|(?:nous|les gens|le monde|vous) (?:prend|prennent) pour des (?:cons|idiots|imbéciles|pigeons|abrutis)",
         -2.0, "on croit rêver", negatable=False),
    rule(r"(?:sans|aucun|peu de|pas de|pas grand|pas le moindre) (?:grand |réel |véritable |vrai )?int[ée]r[êe]t", -2.0,
         "sans intérêt", negatable=False),
    rule(r"(?:pas|jamais) (?:même )?(?:pu|réussi à|eu le courage de) (?:le |la |les |l')?(?:finir|terminer|achever)",
         -1.8, "pas pu le finir", negatable=False),
    # round 17: set phrases whose words the lexicon reads one by one. "son propre" is "his own", not "clean"; "drôle de" is "odd", not "funny"; "sans doute",
    # "sans conteste" assert rather than deny; "par excellence" and "pour les nuls" are labels
    rule(r"(?:mon|ma|mes|ton|ta|tes|son|sa|ses|notre|nos|votre|vos|leur|leurs) propres?", 0.0, "son propre",
         negatable=False),
    rule(r"drôles? de|drole de", 0.0, "drôle de", negatable=False),
    rule(r"sans (?:aucun |nul |le moindre )?doute|sans conteste|par excellence|pour les nuls", 0.0, "sans doute",
         negatable=False),
    rule(r"honte (?:à|a) (?:vous|toi|eux|lui|elle|elles|ceux|celles|ce|cette|ces|la|le|les|l'|tous)", -2.6,
         "honte à vous", negatable=False),
    rule(r"au secours", -1.8, "au secours", negatable=False),
    rule(r"ras[- ]le[- ]bol", -2.2, "ras-le-bol", negatable=False),
    rule(r"aux abois", -1.6, "aux abois", negatable=False),
    # "horreur" is mostly a genre or what a story depicts; "quelle horreur", "une horreur" is the writer's blame.
    # "quelques petits défauts" is a reservation inside praise
    rule(r"quelle horreur|(?:une|vraie|véritable|pure) horreur", -2.4, "quelle horreur", negatable=False),
    rule(r"(?:quelques|petits|menus|légers|rares|ses|ces) (?:petits |légers )?défauts", -0.4, "quelques défauts",
         negatable=False),
    # a love story is a plot, not the reader's delight; "j'ai connu mieux" is a verdict; "mon dieu" is dismay
    rule(r"histoires? de amours?", 0.0, "histoire d'amour", negatable=False),
    rule(r"(?:ai|avons|a|avez) (?:déjà |deja )?(?:connu|lu|vu|eu|mangé|entendu) (?:bien |beaucoup |nettement |tellement )?mieux",
         -1.8, "j'ai connu mieux", negatable=False),
    rule(r"mon dieu", -1.2, "mon dieu", negatable=False),
    # "nulle part" is "nowhere" ("nulle" -2.2); "tu m'étonnes" is "no kidding"; "ne pas mâcher ses mots" is frankness
    rule(r"nulle part|tu me étonnes|(?:pas|sans) (?:si )?longtemps|mâch(?:er|é|e|ent) (?:ses|ses|leurs|mes|tes|nos|vos) mots",
         0.0, "nulle part", negatable=False),
    rule(r"(?:peut|pourrait|peuvent|pourraient|doit|devrait|devraient) (?:bien |beaucoup |nettement )?mieux faire", -1.4,
         "peut mieux faire", negatable=False),
    # "dommage qu'elle soit finie": often regret that a liked thing ended, weaker than a bare "dommage" (-2.2); what
    # follows still says whether it is blame ("dommage que la livraison soit si lente")
    rule(r"dommage que", -1.2, "dommage que", negatable=False),
    rule(r"(?:est|était|etait|reste|très|tres|trop|assez|un peu|bien|si) plat(?:e|s|es)?\b", -1.6, "c'est plat", negatable=False),
    rule(r"(?:en )?chute libre", -1.6, "en chute libre", negatable=False),
    rule(r"(?:à|a) ne pas (?:manquer|rater|louper)", 2.0, "à ne pas manquer", negatable=False),
    rule(r"(?:mourir|mort|morte|morts|mortes|meurt|meurs) de rire", 2.0, "mort de rire", negatable=False),
    rule(r"(?:tu|vous) (?:me|nous) (?:manque|manques|manquez|manquais|manquait|manquiez|manqueras|manquerez)", 1.8,
         "tu me manques", negatable=False),
    # "cher" is "dear" ("cher client") and "expensive": the price sense only where a degree or a verb says so
    rule(r"(?:trop|plus|hyper|super|vraiment|bien trop|beaucoup trop|est|sont|était|étaient) (?:très |trop |si |hyper"
         r" |vraiment |bien )?ch(?:er|ers|ère|ères)|co[uû]t(?:e|ent|era|eront|erait) (?:\w+ )?(?:cher|une fortune)"
         r"|hors de prix", -1.6, "trop cher", negatable=False),
)

_ELISION = re.compile(r"\b([cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)


#: Elisions typed without the apostrophe in tweets and texts ("cest nul", "jaime pas", "jai jamais reçu"): read as
#: the full forms the rules are written for. Only forms that are no other word.
_BARE_ELISION = re.compile(r"\b(?:(c)(est)|(j)(ai|aime|adore|avais|étais|etais|attends|en|y)|(chui|jsuis))\b", re.IGNORECASE)


def _unbare(m: re.Match[str]) -> str:
    if m.group(5):
        return "je suis"
    return f"{m.group(1)}e {m.group(2)}" if m.group(1) else f"{m.group(3)}e {m.group(4)}"


def _prepare(text: str, emoji: Mapping[str, float]) -> str:
    text = _BARE_ELISION.sub(_unbare, text)
    return split_emoji(_ELISION.sub(lambda m: m.group(1) + "e ", text), emoji)


def _strip_accents(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")


def _lookup(lexicon: Mapping[str, float], word: str) -> float | None:
    """For words the lexicon lacks: plural/feminine ending stripped (accent-free aliases are in the lexicon)."""
    hit: float | None
    for cut in ("s", "x", "e", "es"):
        if len(word) > 4 and word.endswith(cut) and (hit := lexicon.get(word[: -len(cut)])) is not None:
            return hit
    return None


#: Verbs after which formal French drops "pas": "ne pourra respecter", "ne saurait convenir", "n'ose dire".
_NE_MODALS = frozenset({"peut", "peux", "pouvait", "pourra", "pourrait", "pourront", "pourraient", "saurait", "saurais",
                        "sauraient", "ose", "osait"})


def _is_negation(lower: list[str], j: int, at: int = 0) -> bool:   # ``at``: see LangPack.is_negation
    word = lower[j]
    nxt = lower[j + 1] if j + 1 < len(lower) else ""
    if word in ("pas", "non") and j and lower[j - 1] in ("ou", "pourquoi"):
        return False  # "… ou pas", "… ou non": a question left open, not a denial; "pourquoi pas" agrees
    if word == "sans" and (nxt in ("doute", "conteste") or (nxt in ("aucun", "nul") and lower[j + 2 : j + 3] == ["doute"])):
        return False  # "sans doute", "sans conteste la meilleure": an assertion, not a denial of the next word
    if word in NEGATIONS:
        # "plus rien", "jamais rien", "sans aucun": one negation, said by the first word (two would cancel out)
        return not (j and (lower[j - 1] in NEGATIONS or (lower[j - 1] == "plus" and "ne" in lower[max(0, j - 4) : j - 1])))
    # literary "ne" without "pas" after pouvoir/savoir/oser: "il ne pourra respecter", "cela ne saurait durer"
    if word == "ne" and nxt in _NE_MODALS:
        return not any(w in NEGATIONS or w in ("plus", "point", "que", "qu") for w in lower[j + 2 : j + 4])
    # "plus" negates only after "ne" ("ne marche plus"); on its own it means "more"
    return word == "plus" and any(w == "ne" for w in lower[max(0, j - 3) : j])


@lru_cache(maxsize=1)
def _load_lexicon() -> dict[str, float]:
    raw = resources.files("monitor.analyse.sentiment").joinpath("data/fr_lexicon.txt").read_text(encoding="utf-8")
    lexicon: dict[str, float] = {}
    for line in raw.splitlines():
        word, sep, value = line.rpartition("->")
        if sep and word:
            try:
                lexicon[word.strip().lower()] = float(value)
            except ValueError:
                continue
    return lexicon


@lru_cache(maxsize=1)
def pack() -> LangPack:
    """The French pack, built once per process."""
    emoji = emoji_valences()
    deny = anything_but("fr")
    base = {**_load_lexicon(), **emoji, **CX_LEXICON, **REVIEW_LEXICON, **GENERAL_LEXICON}
    # accent-free aliases so "decu", "tres" (typed without accents, common online) still hit
    lexicon = drop_topics("fr", {**{_strip_accents(k): v for k, v in base.items()}, **base})
    boosters = {**{_strip_accents(k): v for k, v in BOOSTERS.items()}, **BOOSTERS}
    return LangPack(
        code="fr",
        lexicon=lexicon,
        negations=NEGATIONS,
        boosters=boosters,
        contrast=frozenset({"mais"}),
        rules=RULES + frame_rules("fr"),
        asking=asking("fr"),
        irony=irony("fr"),
        prepare=lambda text: _prepare(deny(text), emoji),
        irrealis=irrealis("fr"),
        fallback=_lookup,
        symbols=symbols(lexicon),
        is_negation=_is_negation,
        skip=frozenset({"ne", "plus"}),
        post_negations=frozenset({"pas", "jamais", "plus", "guère", "point"}),
        clause_words=frozenset({"et", "mais", "car", "parce", "puisque", "alors"}),
    )
