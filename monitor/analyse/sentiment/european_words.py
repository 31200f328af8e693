"""The hand-written customer-experience lexicons of :mod:`monitor.analyse.sentiment.european`, one per language.

Written for this project (same licence as the code): everyday praise and blame words plus the problem words of
every issue type, on VADER's -4..4 scale. Format: ``word:valence``; a bare word takes the previous valence.
"""

from __future__ import annotations


def words(spec: str) -> dict[str, float]:
    """"word1 word2:-2.0 word3:1.5" → {word: valence}; a bare word takes the previous valence. A word listed twice
    is an error: the second value silently replaced the first (regression: round 5's review words lowered
    "pessimo", "meraviglioso" and "encantado" that way)."""
    out: dict[str, float] = {}
    value = 0.0
    for item in spec.split():
        word, _, v = item.partition(":")
        if v:
            value = float(v)
        if word in out:
            raise ValueError(f"{word!r} is listed twice")
        out[word] = value
    return out


DE = words("""
leckt:-1.8 undicht:-1.8 gerissen:-1.8 zerkratzt:-1.4 gesprungen:-1.2 unvollständig:-1.8 fehlt:-1.0 fehlen:-1.0
preiserhöhung:-1.6 kündigungsgebühr:-1.8 vertragsstrafe:-1.8 zerrissen:-1.6
abgestürzt:-2.0 eingefroren:-1.6 gesperrt:-1.6 blockiert:-1.4 aufgelegt:-1.6 warteschleife:-1.6 unberechtigt:-2.0
gestohlen:-2.4 geklaut:-2.4 missbraucht:-2.2 funkloch:-1.8 stromausfall:-2.2 netzausfall:-2.2 verschwunden:-1.6
ungefragt:-1.6 unerlaubt:-2.0 geschmolzen:-2.2 verschmort:-2.4 rauch:-1.4 explodiert:-2.6 kratzer:-1.2
schlecht:-2.2 schlechter schlechteste schlechtesten miserabel:-2.6 katastrophe katastrophal furchtbar schrecklich
grauenhaft grottig unverschämt:-2.4 unmöglich frechheit skandal skandalös enttäuscht:-2.2 enttäuschend
enttäuschung ärgerlich:-1.8 ärgern verärgert wütend sauer:-1.6 nervig:-1.6 genervt nervt kaputt:-2.2 defekt
beschädigt:-2.0 zerbrochen gebrochen fehlerhaft:-1.8 mangelhaft:-2.2 störung:-2.0 ausfall:-2.2 ausgefallen
absturz:-2.0 stürzt hängt:-1.4 langsam:-1.2 lahm:-1.6 verspätet:-1.6 verspätung:-1.6 verzögerung
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
langweilig:-2.0 langweiliger langweilige langweiligen langatmig:-1.6 zäh:-1.2 öde:-1.8 öder mittelmäßig:-1.6
mittelmäßige vorhersehbar:-1.3 vorhersehbare überbewertet:-1.6 kitschig:-1.4 zeitverschwendung:-2.4
geldverschwendung:-2.4 flach:-1.0 platt:-1.2 belanglos:-1.6 schwach:-1.6 schwache schwachen dünn:-0.8
unlogisch:-1.4 nervtötend:-2.0 fad:-1.4 fade enttäuschte:-2.0 enttäuschender
spannend:2.0 spannende spannender fesselnd:2.2 fesselnde packend:2.2 packende berührend:2.0 berührende
meisterwerk:2.8 sehenswert:2.2 lesenswert:2.2 mitreißend:2.2 mitreißende unterhaltsam:1.8 unterhaltsame
gelungen:2.0 gelungene gelungener witzig:1.6 lustig:1.4 herrlich:2.4 wunderschön:2.6 grandios:2.6
chaos:-1.8 chaotisch:-1.8 überfüllt:-1.8 stinkt:-2.0 dreckig:-2.0 schmutzig:-1.8 unpünktlich:-2.0 verletzt:-1.4
sperrung:-1.2 umgeleitet:-1.0
ekelhaft:-2.4 widerlich:-2.6 eklig:-2.2 ekelig abstoßend entsetzlich:-2.6 erbärmlich:-2.4 jämmerlich:-2.2
unerträglich:-2.4 fürchterlich grausam:-2.4 beschissen:-2.6 arschloch:-2.6 scheiß:-2.4 scheiss kotzen:-2.4 kotzt
hassen:-2.6 hasse hasst hass:-2.4 idiot:-2.4 depp:-2.2 trottel versager unfähig:-2.2 inkompetenz
bescheuert:-2.2 dumm:-2.0 dummheit dämlich blöd:-1.8 blödsinn schwachsinn:-2.0 sinnlos:-1.8 unsinn:-1.6
quatsch:-1.2 lächerlich:-2.0 peinlich:-1.8 doof:-1.6 fies:-1.8 mies:-2.2 böse:-1.8 kacke:-2.2 arsch:-1.8
verdammt:-1.8 hölle:-2.0 fresse:-2.0 verarschen:-2.2 verarscht verarsche igitt:-2.0 pfui bäh:-1.6
arrogant:-1.8 arroganz ignoranz unfair:-1.8 ungerecht:-2.0 wut:-2.0 frust:-1.8 frustriert:-2.0 frustrierend
deprimierend:-2.2 deprimiert verzweifelt:-2.0 hoffnungslos:-2.2 unglücklich:-2.0 tragisch:-2.0 zerstört:-2.0
gescheitert:-1.8 versagt:-2.0 lüge:-1.8 lügen gelogen:-2.0 lügner:-2.2 unsympathisch:-1.6 angst:-1.6
schmerz:-1.6 schmerzen schmerzt:-1.8 schmerzhaft weh:-1.4 aua krank:-1.6 langeweile:-1.6 nerven:-1.4
weinen:-1.6 heulen heul seufz:-1.2 stress:-1.2 stressig:-1.4 anstrengend:-1.2 pech:-1.4 unnötig:-1.4
überflüssig quatschen:0.0
geil:2.0 cool:1.6 lieb:1.8 freue:2.0 freuen freut freude süß:2.0 lecker traumhaft:2.4 hübsch:1.8 nett:1.6
juhu:1.8 stolz:1.6 genießen:1.6 gemütlich:1.4 entspannt haha:1.2 xd
gute:1.9 süße:2.0 mag:1.4 magst mögen:1.2
shit:-2.2 fuck:-2.4 erschüttert:-2.0 erschütternd:-2.2 fassungslos:-2.0 depression:-2.0 depressiv niederträchtig:-2.4
farce:-2.0 verseucht:-2.0 unseriös:-1.6 albern:-1.2 erkältung:-1.2
spaß:1.8 lachen:1.2 lach gratuliere:2.2 gratulation glückwunsch glückwünsche willkommen:1.4 dankbar:2.0 supi
wundervoll:2.6 nice:1.8 herzlich:1.6 liebling:2.0 respekt:1.6 yay:1.8
ätzend:-2.2 bekloppt:-2.0 asozial:-2.2 affig:-1.4 panne:-1.6 pleite reinfall:-1.8 flop verkackt:-2.2 vermasselt:-2.0
verbockt beleidigend:-2.0 respektlos rücksichtslos dreist:-1.8 unzumutbar:-2.4 unterirdisch:-2.6 armselig:-2.2
schäbig kläglich:-2.0 stümperhaft:-2.2 dilettantisch unprofessionell:-2.0 zumutung:-2.2 schande sauerei:-2.0 schweinerei
blamage:-2.0 blamiert hinterhältig:-2.2 verlogen heuchlerisch:-2.0 scheinheilig zynisch:-1.4 verwirrend:-1.2
umständlich:-1.4 bedauerlich:-1.6 bereue:-1.6 bereuen grässlich:-2.4 scheußlich abscheulich:-2.6 abartig:-2.4 pervers:-2.0
sympathisch:1.8 angenehm:1.6 bequem:1.2 preiswert:1.4 kompetent:1.8 professionell:1.6 fröhlich:1.8 klug:1.4 schlau clever
beeindruckend:2.2 beeindruckt:2.0 bravo brillant:2.6 phantastisch:2.8 fabelhaft:2.6 einzigartig:1.8 erfreulich
erleichtert:1.4 dankeschön:1.8
ärgert:-1.8 lügt:-2.0 weint:-1.6 heult stört:-1.4 störend kitsch:-1.2 würg:-1.6
inakzeptabel:-2.2 üble:-2.0 komfortabel:1.6
liebsten:0.0
lästig:-1.6 mühsam:-1.2 unangenehm:-1.6 unbequem:-1.4 ungenießbar:-2.4 versalzen:-1.6 unzuverlässig:-2.0
unsauber:-1.4 unordentlich:-1.2 verdreckt:-2.0 ranzig vergammelt verschimmelt:-2.2 schimmel:-1.8 gestank:-2.0 lärm:-1.4
mangel zornig:-2.0 gereizt:-1.4 beleidigt gekränkt:-1.6 verletzend:-2.0 schockiert geschockt entsetzt:-2.2 empört:-2.0
empörend:-2.4 ungeheuerlich bedrückend:-1.8 niedergeschlagen erschöpft:-1.2
erstklassig:2.6 einwandfrei:2.2 tadellos reibungslos:1.8 problemlos:1.6 zuvorkommend:2.2 hilfsbereit:2.0 köstlich:2.4
schmackhaft:2.0 sauber:1.2 lohnt:1.4 gefällt:1.8 überzeugt:1.4 überzeugend:1.8
sterben:-1.8 stirbt sterbe gestorben tod mord:-2.4 selbstmord suizid:-2.2 terror:-2.4 horror:-1.6 qual:-2.0 quälend:-2.2
elend:-2.0 verzweiflung:-2.2 kummer:-1.6 trauer:-1.8 trauern:-1.6 trauert einsam:-1.6 lebensmüde:-2.0 gelitten:-1.6
erschreckend:-2.2 schockierend beängstigend:-2.0 alarmierend:-1.8 grauenvoll:-2.6 widerwärtig gruselig:-1.4
lachhaft:-2.2 unverantwortlich beschämend schämen:-1.6 schäme fremdschämen:-1.8 ekel:-2.2 ekelt
unnütz:-1.6 fragwürdig:-1.4 merkwürdig:-1.0 misstrauen:-1.4 unrecht:-1.8 rückschritt:-1.6 rassismus:-2.0 hetze:-1.8
nervös:-1.2 müde:-1.0 schlapp schwindelig bauchweh:-1.4 kopfweh halsweh gemeinsam:0.0
assi:-2.2 penner:-2.0 schlampe:-2.4 spast schwachkopf wichser:-2.8 missgeburt hurensohn:-3.0 dreck:-2.0
menno:-1.2 manno pff:-1.0 meh:-0.8 argh:-1.4 grr ugh fail:-1.8 sad:-1.6 wtf
behindert:-1.8 töten:-2.4 tötet getötet komisch:-0.8 boring:-1.6 hate:-2.4 bullshit:-2.4 stau:-1.2
""")

ES = words("""
gotea:-1.8 rajado:-1.8 rajada:-1.8 rasgado:-1.6 rasgada:-1.6 incompleto:-1.8 incompleta:-1.8 faltan:-1.0
falta:-0.8 penalización:-1.8 desapareció:-1.6 desaparecido:-1.6
colgaron:-1.8 cuelgan:-1.8 colgado:-1.4 bloqueado:-1.6 bloqueada:-1.6 robado:-2.4 robada:-2.4 robaron:-2.4
derretido:-2.4 derritió:-2.4 quemó:-2.2 humo:-1.6 calienta:-1.2 calentó:-1.4 explotó:-2.6 sobrecalienta:-2.0
extraviado:-1.8 extraviada:-1.8 indebido:-2.2 indebida:-2.2 cuelga:-1.6 congela:-1.4
malo:-2.2 mala malos malas mal:-1.6 peor:-2.6 pésimo:-2.6 pésima horrible:-2.6 terrible:-2.6 fatal:-2.4 desastre:-2.6
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
asco:-2.4 caos:-1.8 caótico:-1.8 caótica caotico caotica nefasto:-2.4 nefasta penoso:-2.0 penosa
impresentable:-2.2 impresentables indignante:-2.4 sinvergüenza:-2.4 sinvergüenzas tercermundista:-2.0
ladrones:-2.6 engaño:-2.2 engañan:-2.2 engañado:-2.0 engañada mienten:-2.2 mentira:-1.8 mentiras
perdieron:-1.4 perdisteis:-1.4 perdió:-1.4 extraviaron:-1.8 cancelaron:-1.4 cancelan:-1.2 cancelasteis:-1.4
overbooking:-1.8 pesadilla:-2.4 tomadura:-1.8
bueno:1.9 buena buenos buenas bien:1.4 mejor:1.8 excelente:2.8 genial:2.6 perfecto:2.6 perfecta
maravilloso:2.8 maravillosa increíble:2.6 fantástico:2.8 fantástica estupendo:2.6 encantado:2.2 encantada
contento:2.0 contenta feliz:2.2 satisfecho:1.9 satisfecha gracias:1.5 encanta:2.4 recomiendo:2.0 rápido:1.2
rápida amable:1.8 útil:1.6 fiable:1.8 bonito:1.8 bonita guay:2.0 top:1.8 súper:2.0 mola:2.0
aburrido:-2.0 aburrida aburridos aburridas aburrimiento:-1.8 soporífero:-2.2 soporífera insulso:-1.8
insulsa predecible:-1.3 predecibles pesado:-1.0 pesada pesadísimo:-1.8 flojo:-1.4 floja flojos flojas
cutre:-1.8 malísimo:-2.6 malísima
sobrevalorado:-1.6 sobrevalorada infumable:-2.4 tostón:-2.0 bodrio:-2.4 superficial:-1.0 absurdo:-1.4
absurda
emocionante:2.2 apasionante:2.2 entretenido:1.8 entretenida recomendable:2.0 recomendables imprescindible:2.2
obra:0.0 maravilla:2.4 precioso:2.2 preciosa conmovedor:2.0 conmovedora divertido:1.8 divertida
brillante:2.2 magnífico:2.6 magnífica espectacular:2.4
odio:-2.6 odiar odia odian odié odiamos detesto:-2.6 detestar detesta asqueroso:-2.6 asquerosa asquerosos
repugnante:-2.8 desagradable:-2.2 insoportable:-2.6 intolerable:-2.4 inaceptable:-2.6 patético:-2.4 patética
deplorable:-2.6 horroroso:-2.6 horrorosa horror:-2.4 espantoso:-2.6 espantosa mediocre:-1.8 feo:-1.8 fea
porquería:-2.4 chapuza:-2.2 desastroso:-2.6 desastrosa vergonzosa:-2.4 ridícula:-1.8 absurdos:-1.4
miedo:-1.8 pánico:-2.0 dolor:-1.8 sufrir:-2.0 sufro sufre sufriendo sufrimiento:-2.2 tristeza:-2.0 llorar:-1.6
lloro lloré llorando deprimido:-2.2 deprimida depresión:-2.2 angustia:-2.0 agobio:-1.8 agobiado agobiada
preocupado:-1.4 preocupada preocupación:-1.4 preocupante:-1.8 rabia:-2.2 cabrea:-2.0 cabreo cabreada:-2.2
indignada:-2.2 indignación frustrado:-2.0 frustrada frustración frustrante:-2.2 decepciona:-2.2 decepcionan
desilusión:-2.0 lástima:-1.4 desgracia:-2.2 tragedia:-2.6 trágico:-2.4 miserable:-2.4 injusto:-2.2 injusta
injusticia:-2.4 abuso:-2.4 abusos amenaza:-1.8 amenazan:-1.8 fraude:-2.6 engañar:-2.0 engañando mentir:-1.8
mentiroso:-2.4 mentirosa mentirosos traición:-2.4 traidor:-2.4 ladrón:-2.6 ladrona corrupción:-2.4
corrupto:-2.4 corrupta muerte:-2.0 muertos:-2.0 asesinato:-2.8 asesino:-2.6 violencia:-2.4 atentado:-2.8
crimen:-2.6 guerra:-2.0 crisis:-1.6 pobreza:-2.0 pobre:-1.4 pobres desempleo:-1.6 enfermo:-1.4 enferma
accidente:-1.8 herido:-1.8 heridos culpa:-1.2 perder:-1.4 pierdo pierde perdemos sufrimos
fallan:-1.8 falló fallado fallar fallando estropeada:-2.0 estropeó averiada:-2.0 retrasó:-1.6 retrasos:-1.6
demora:-1.4 demoras demorado demorada tardan:-1.2 tardaron tardó
estúpido:-2.4 estúpida estúpidos idiota:-2.6 idiotas imbécil:-2.8 imbéciles gilipollas:-2.8 subnormal
tonto:-1.8 tonta tontos capullo:-2.4 cabrón:-2.6 cabrones maldito:-2.2 maldita malditos desgraciado:-2.4
jodido:-2.2 jodida joder:-1.8 jode:-1.8 jodan coño:-1.6 puta:-2.0 puto putos putas cago:-2.0
vergonzosos:-2.4 cansado:-1.4 cansada hartos:-2.0 quejas:-1.6
amor:2.2 amo:2.4 adoro:2.6 encantan:2.4 encantó:2.6 encantaron gusta:1.6 gustó:1.8 alegría:2.2 alegre:2.0
felices:2.2 felicidad:2.4 felicidades:2.4 enhorabuena:2.4 felicitaciones:2.2 felicito:2.0 éxito:2.0 orgullo:2.0
orgulloso:2.0 orgullosa disfrutar:2.0 disfruta disfruté disfrutando disfruten hermoso:2.4 hermosa lindo:2.0
linda bello:2.2 bella guapo:1.8 guapa ideal:1.8 favorito:1.8 favorita ilusión:1.8 ilusionado ilusionada
agradecido:2.0 agradecida agradezco eficiente:1.8 eficaz:1.6 puntual:1.6 cómodo:1.6 cómoda atento:1.6
fenomenal:2.6 buenísimo:2.6 buenísima chulo:1.8 chula molan:2.0 bravo:2.0 espero:0.0
incómodo:-1.8 incómoda incómodos daño:-1.8 daños duele:-1.8 dolió negligencia:-2.4 lastimosamente:-1.4
feísimo:-2.2 feísima tontería:-1.4 tonterías peligro:-1.6 pena:-1.4 cobran:-0.8 cobraron pendejo:-2.4 pendeja
pendejos pinche:-1.8 cagada:-2.2 desprecio:-2.2 vergonzante:-2.4 inadmisible:-2.4
aburro:-1.8 aburre agotado:-1.4 agotada estresado:-1.6 estresada estrés:-1.4 ansiedad:-1.6 soledad:-1.6
resaca:-1.2 fracaso:-2.2 fracasado:-2.2 derrota:-1.8 perdí:-1.4 perdimos hipócrita:-2.2 hipócritas
hipocresía:-2.2 racista:-2.2 racismo:-2.4 machista:-2.0 machismo:-2.2 fascista:-2.2 ignorante:-2.0 ignorantes
ignorancia:-1.8 egoísta:-2.0 cobarde:-2.2 cobardes payaso:-1.6 payasos chorrada:-1.6 gilipollez:-2.2 falso:-1.6
falsa falsos sucio:-1.6 sucia suciedad:-1.8 carísimo:-1.8 carísima grave:-1.6 gravísimo:-2.2 desesperante:-2.2
desesperado:-1.8 desesperada desesperación:-2.0 insufrible:-2.6 cansino:-1.6 cansina molestia:-1.4
molestias llanto:-1.6 luto:-2.0 falleció:-1.8 fallecido murió:-2.0 muere mueren enfada:-2.0 enfado
preocupa:-1.4 entristece:-2.0 agobia:-1.8 estresa:-1.6 deprime:-2.2 revienta:-2.2 fastidia:-1.8 fastidio:-1.6
indigna:-2.2 repugna:-2.4 decepcionó:-2.2 decepcionaron
suerte:1.4 guapísimo:2.2 guapísima encantador:2.2 encantadora cariño:1.6 abrazo:1.4 abrazos besos beso
recomendado:2.0 recomendada acierto:2.0 logro:1.8 ganas:1.2 emocionado:2.0 emocionada gustazo:2.4 placer:2.0
alegra:2.0 alegro flipa:2.0 divierte:1.8 victoria:2.0 ganamos:1.8
débil:-1.4 raro:-0.8 odioso:-2.4 despreciable:-2.6 malvado:-2.0 chungo:-1.6 difícil:-1.0 abandonado:-1.6
nervioso:-1.2 miseria:-2.2 arruinado:-2.0 arruina:-2.0 arruinar ilegal:-1.8 ruido:-1.0 insulto:-2.0 insultos
insultar insulta insultando desorganización:-2.0 desidia:-2.0 descontrol:-1.8 lío:-1.2 robar:-2.4 roban
estafar:-2.6 estafan estafado asqueado:-2.2 inepto:-2.2 ineptitud tristemente:-1.4 peste:-1.8 abusan:-2.2
abusar timan:-2.4 culpable:-1.6 inseguro:-1.2 susto:-1.6 lágrimas:-1.4 putada:-2.2 agobiante:-2.0
cansancio:-1.4 cagar:-1.8 vomitar:-2.0 vómito enojado:-2.0 enojo enoja hijueputa:-2.8 hijoputa mrd:-2.4
zorra:-2.2 gentuza:-2.4 chusma:-2.2 escoria:-2.6 cretino:-2.2 necio:-1.8 mamarracho:-2.0 indecente:-2.2
deprimente:-2.2 problemático:-1.6 terrorismo:-2.6 terrorista masacre:-2.8 matanza violación:-2.8
maltrato:-2.6 acoso:-2.4 agresión:-2.4 catástrofe:-2.6 despido:-1.8 despidos mafia:-2.2 amargado:-1.8
amargura:-2.0 rencor:-2.0 envidia:-1.4 celos:-1.2 arrogante:-1.8 prepotente:-2.0 mediocridad:-2.0
humillante:-2.4 humillación ineficaz:-1.8 ineficiente:-1.8 incapaz:-1.6 incapaces negligente:-2.2
pérdida:-1.2 pérdidas perjuicio:-1.8 perjudica:-1.8 coñazo:-2.0 pesadez:-1.6 hartazgo:-2.0 malestar:-1.6
fiebre:-1.0 gripe:-1.0 enfermedad:-1.4 inseguridad:-1.6 delincuencia:-2.0 víctima:-1.6 víctimas
asustado:-1.6 infeliz:-2.2 amargo:-1.2 tóxico:-2.0 cruel:-2.4 crueldad:-2.6 apesta:-2.2 apestoso:-2.2
podrido:-2.2 caducado:-1.4 tacaño:-1.4 estupidez:-2.2 idiotez pringado:-1.6 hortera:-1.4 rancio:-1.4
chapucero:-2.0 cutrez trampa:-1.6 tramposo:-2.2 ruina:-2.2 bochornoso:-2.4 cochino:-1.8 guarro
inmundo:-2.4 nauseabundo ignorado:-1.6 ignoran maltratan:-2.4 maltratar discriminación:-2.4 discriminan:-2.2
discriminar amenazar:-1.8 lamentar:-1.2 lamento fracasar:-2.0 hiere:-1.8 herir temo:-1.4 temor
aterrador:-2.4 escalofriante:-2.0 grotesco:-2.0 horrendo:-2.6 molestar:-1.6 molestan fastidiar
incomodidad:-1.4 perjudicial:-2.0 dañino nocivo:-1.8 abandono:-1.4 desprecian:-2.2 impuntual:-1.8
impuntualidad tardanza:-1.4 exagerado:-1.0 excesivo:-1.2 rencoroso:-1.8 impotencia:-2.0 desánimo:-1.8
bajón:-1.8 llorera:-1.6 repelente:-1.8 resignación:-1.2 reclamar:-1.2
robó:-2.4 mintió:-2.2 mintieron rompió:-1.8 rompieron cansa:-1.4 asusta:-1.4 decepcionaste:-2.2
decepcionasteis fallaste:-1.8 fallasteis odiaba:-2.4 odiabas
""")

IT = words("""
crepato:-1.8 crepata:-1.8 strappato:-1.6 strappata:-1.6 incrinato:-1.8 incrinata:-1.8 incompleto:-1.8
incompleta:-1.8 mancava:-1.0 mancano:-1.0 penale:-1.6 rincaro:-1.6 rincari:-1.6 scomparso:-1.6 scomparsa:-1.6
scadente:-2.2 scadenti bloccato:-1.6 bloccata:-1.6 rubato:-2.4 rubata:-2.4 rubati:-2.4 spento:-1.0 spegne:-1.4
bruciato:-2.2 bruciata:-2.2 fumo:-1.6 esploso:-2.6 surriscalda:-2.0 smarrito:-1.8 smarrita:-1.8 sparito:-1.6
sparita:-1.6 indebito:-2.2 indebita:-2.2 riattaccato:-1.6 crasha:-1.8 impalla:-1.8
cattivo:-2.0 cattiva male:-1.4 pessimo:-2.6 pessima pessimi:-2.8 peggiore:-2.6 peggio:-2.4 orribile:-2.6 terribile:-2.6
schifo:-2.8 schifoso:-2.6 vergogna:-2.4 vergognoso:-2.4 scandaloso:-2.6 deluso:-2.2 delusa delusione
deludente arrabbiato:-2.2 arrabbiata furioso:-2.4 stufo:-2.0 stufa rotto:-2.2 rotta rotti danneggiato:-2.0
danneggiata difettoso:-2.2 difettosa guasto:-2.0 guasti:-2.0 disservizio:-2.2 errore:-1.6 errori lento:-1.2
lenta ritardo:-1.6 ritardi annullato:-1.4 annullata cancellato:-1.4 rimborso:-1.4 truffa:-2.8
truffatori:-2.8 furto:-2.6 maleducato:-2.2 scortese:-2.2 incompetente:-2.2 incompetenti inutile:-2.0
problema:-1.6 problemi spazzatura:-2.4 merda:-2.8 attesa:-1.0 aspettando:-1.2 hackerato:-2.4 violato:-2.0
pericoloso:-2.0 pericolosa purtroppo:-1.4 reclamo:-1.6 lamentela:-1.6 perso:-1.2 persa sbagliato:-1.4
caro:-0.6 triste:-1.6 vergognosi ridicolo:-1.8 assurdo:-1.8 insoddisfatto:-2.2
buono:1.9 buona bene:1.4 meglio:1.8 migliore:1.8 ottimo:2.6 ottima ottimi eccellente:2.8 fantastico:2.8
fantastica perfetto:2.6 perfetta meraviglioso:2.6 bellissimo:2.6 bello:1.9 bella felice:2.2 contento:2.0
contenta soddisfatto:1.9 soddisfatta grazie:1.5 adoro:2.4 consiglio:1.2 veloce:1.2 rapido:1.2 gentile:1.8
gentilissimi:2.4 utile:1.6 affidabile:1.8 super:2.0 top:1.8 stupendo:2.6 grande:1.2
noioso:-2.0 noiosa noiosi noiose noia:-1.8 prevedibile:-1.3 prevedibili banale:-1.4 banali insulso:-1.8
insulsa fiacco:-1.4 fiacca piatto:-0.8 pesante:-1.0 soporifero:-2.2 soporifera
deludenti:-2.2 sopravvalutato:-1.6 sopravvalutata
mediocre:-1.6 mediocri inguardabile:-2.6 illeggibile:-2.0 brutto:-2.0 brutta brutti brutte
schifosa:-2.6
capolavoro:2.8 emozionante:2.2 emozionanti avvincente:2.2 coinvolgente:2.0 consigliato:2.0 consigliata
consigliatissimo:2.6 divertente:1.8 commovente:2.0 toccante:1.8 bellissima:2.6
stupenda:2.6 meravigliosa piacevole:1.8 imperdibile:2.4
puttana:-2.2 opportunista:-1.8 opportunisti
piace:1.8 piacciono piaciuto piaciuta amo:2.4
odio:-2.4 odia:-2.2 odiano vaffanculo:-3.0 fanculo:-2.8 schifezza:-2.6 ciofeca:-2.4 porcata:-2.6 porcate
cazzate:-2.4 cazzata:-2.2 minchiate:-2.4 stronzate:-2.4 buffone:-2.0 buffoni pagliacci:-2.0 vergognatevi:-2.8
vomito:-2.2 vomitare disgustoso:-2.6 disgustosa disgusto:-2.4 soffro:-2.0 soffrendo sofferenza piango:-1.8
stanchezza:-1.2 flop:-2.0 fallimento:-2.2 fallito:-2.0 falliti demenziale:-1.6 incapacità:-2.0 farsa:-2.0
razzista:-2.2 colpa:-1.4 ingiustizia:-2.2 rovinato:-2.0 rovinata rovina rovinare:-1.8 corrotti:-2.4 corrotto
ladri:-2.4 ladro falso:-1.6 falsa falsità:-2.0 incazzato:-2.4 incazzata incazzati antipatico:-2.0 antipatica
danni:-1.6 tristezza:-2.0 imbarazzante:-2.0 pietoso:-2.2 pietosa paura:-1.2 sfigato:-1.8 manco:-0.8
puttanate:-2.4 fottuto:-2.4 fottuta fottere:-2.0 massacro:-2.4 sfacelo:-2.6 squallore:-2.4 deleterio:-2.2 deleteria
indegno:-2.4 indegna moribonda:-1.8 moribondo decadente:-1.8 stangata:-2.0 debolezza:-1.4 svenduto:-1.8 svenduta
profittatore:-2.2 mafioso:-2.2 mafiosi delirio:-1.6 sclerato:-1.6 sclerata ennesimo:-1.2 ennesima sveglio:0.8
pazzo:-1.0 rubare:-2.0 ruba rubano vittima:-1.6 vittime protesta:-1.0 proteste accusa:-1.4 accuse
rischio:-1.0 attacco:-1.6 attacchi
peggiorato:-2.0 peggiorata delude:-2.0 deludono
follia:-1.8 becero:-2.2 becera beceri tradito:-2.2 tradita traditi tradimento tradire:-2.0 crollo:-1.6 crolla:-1.4
crollare frustrante:-2.0 frustrato:-1.8 frustrata terrorizzato:-2.0 terrorizzata rimpianto:-1.4 recessione:-1.6
fuffa:-1.6 penalizza:-1.4 penalizzare sacrifici:-1.0 sacrificio vigliacco:-2.2 vigliacchi codardo:-2.0 ipocrita:-2.2
ipocriti ipocrisia sciacallo:-2.2 sciacalli incoerente:-1.6 incoerenza menzogna:-2.0 menzogne bugiardo:-2.2
bugiardi bugia:-1.6 bugie arroganza:-2.0 spreco:-1.8 sprechi sperpero:-2.0 catastrofe:-2.8 dramma:-1.6
peggiorare:-1.8 peggiora:-1.8 delirante:-1.8 allucinante:-1.8 scandalo:-2.2 nausea:-1.8 fregatura:-2.2
fregato:-1.6 fregati piangere:-1.4 demagogia:-1.4 demagogo populista:-1.2 populisti populismo
iniquo:-2.0 iniqua iniqui inique iniquità moscio:-1.2 moscia ingrato:-2.0 ingrata ingrati bocciato:-1.6 bocciata
bocciati chissenefrega:-1.4 sticazzi impazzire:-1.4
ribrezzo:-2.4 detesto:-2.4 nervoso:-1.4 nervosa ansia:-1.6 angoscia:-2.0 depresso:-2.0 depressa depressione
abbandonato:-1.4 abbandonata ignorante:-1.6 ignoranti cafone:-2.0 cafoni meschino:-2.0 meschina viscido:-1.8
infame:-2.6 infami bastardo:-2.6 bastarda bastardi ingiusto:-2.0 ingiusta ingiusti disastroso:-2.6 disastrosa
orrido:-2.4 corruzione:-2.0 degrado:-1.8 marcio:-2.0 marci caos:-1.6 incubo:-2.0 peccato:-1.2 mannaggia:-1.6
accidenti:-1.0 uffa:-1.6 dannazione:-1.8 maledetto:-2.2 maledetta maledetti maledizione:-2.0 annoiato:-1.6
annoiata stress:-1.4 stressato:-1.6 stressata solitudine:-1.4 amarezza:-1.8 rammarico:-1.4 minaccia:-1.6 minacce
ricatto:-2.0 sopruso:-2.2 soprusi abuso:-1.8 abusi prepotenza:-2.0 incivile:-2.0 incivili vandali:-1.8
sfascio:-2.2 declino:-1.4 allarmante:-1.8 pessimista:-1.0 inefficiente:-1.8 inefficienza
figuraccia:-2.0 figuracce
idiozia:-2.0 idiozie scemenza:-1.8 scemenze boiata:-2.4 boiate porcheria:-2.4 porcherie robaccia:-2.0 cagata:-2.4
cagate rompiscatole:-1.8 rompipalle:-2.0 rompicoglioni:-2.2 leccaculo:-2.2 zoccola:-2.4 merdoso:-2.6 merdosa
puzzolente:-1.8
figata:2.4 figo:1.6 gioia:2.2 sorriso:1.6 sorrisi orgoglioso:2.0 orgogliosa fiero:1.8
illegale:-1.8 abusivo:-1.6
abusiva sporco:-1.6 sporca sporchi sporche rumoroso:-1.2 rumorosa scomodo:-1.4 scomoda fallire:-1.6 fallisce
tristemente:-1.4
ladrone:-2.4 ladroni cialtrone:-2.0 cialtroni pezzente:-2.0 pezzenti vomitevole:-2.8 vomitevoli obbrobrio:-2.4
lecchino:-2.0 lecchini pecorone:-1.8 pecoroni sbruffone:-1.8 sbruffoni ebete:-2.0 demente:-2.0 dementi
cazzone:-2.0 cazzoni rincoglionito:-2.4 rincoglionita rincoglioniti palloso:-2.0 pallosa
parassiti:-2.2 parassita sanguisughe:-2.2 sanguisuga strozzini:-2.2 strozzino
mazzata:-1.8 salasso:-1.8 batosta:-1.8 sfruttamento:-1.6 povertà:-1.6 incompetenza:-2.0 assurdità:-1.8
inaudito:-1.8 inaudita amareggiato:-2.0 amareggiata umiliante:-2.2 umiliazione:-2.2
offensivo:-2.0 offensiva offensivi razzismo:-2.2 violenza:-2.0 dittatura:-1.8
inciucio:-1.8 inciuci bimbiminkia:-1.8 fregare:-1.6 fregano fregarci fotterci:-2.0
""")

PT = words("""
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
reclamar:-1.4 perdido:-1.4 perdida errado:-1.4 caro:-0.8 triste:-2.1 absurdo:-2.0 ridículo:-1.8
descaso:-2.4 insatisfeito:-2.2 insatisfeita
bom:1.9 boa bons boas bem:1.4 melhor:1.8 ótimo:2.6 ótima excelente:2.8 maravilhoso:2.8 maravilhosa
perfeito:2.6 perfeita incrível:2.6 fantástico:2.8 feliz:2.2 contente:2.0 satisfeito:1.9 satisfeita
obrigado:1.5 obrigada adoro:2.4 amei:2.6 recomendo:2.0 rápido:1.2 rápida gentil:1.8 útil:1.6 confiável:1.8
lindo:2.2 linda top:1.8 show:1.8 parabéns:2.2 legal:1.6
chato:-1.8 chata chatos chatas medíocre:-1.6 medíocres previsível:-1.3 previsíveis arrastado:-1.4
arrastada cansativo:-1.6 cansativa entediante:-2.0 tedioso:-2.0 tediosa fraquinho:-1.4 fraquinha
superestimado:-1.6 superestimada sonolento:-1.4 bobo:-1.0 boba
obra-prima:2.8 emocionante:2.2 envolvente:2.0 viciante:1.6 imperdível:2.4 divertido:1.8
divertida comovente:2.0 sensacional:2.6
aff:-1.8 affs credo:-1.2 nojo:-2.4 ranço:-2.0 coitado:-1.0 coitada coitados embuste:-2.2 chatice:-2.0
insuportável:-2.6 insuportáveis injustiça:-2.2 vexame:-2.2 desprezível:-2.6 desprezíveis bosta:-2.6 pqp:-2.0
fdp:-2.6 vsf:-2.4 caralho:-1.5 trouxa:-1.6 sacanagem:-2.0 palhaçada:-2.2 brega:-1.2 vacilo:-1.4 vacilou vacilando
ódio:-3.2 detesto:-2.6 detestei odiei:-2.8 preguiça:-1.2 tédio:-1.8 desisto:-1.4 mentira:-1.6 forçado:-1.4
forçada forçação:-1.6 apelação feia:-2.3 horroroso:-2.6 horrorosa tosco:-1.6 tosca decepcionei:-2.0
decepcionou:-2.2 saudade:-0.6 saudades socorro:-1.0 mal:-2.0
machista:-2.2 machistas machismo:-2.0 homofóbico:-2.8 homofóbica revoltante:-2.6 desgraça:-2.6 desgraçado
desgraçada pavor:-2.4 angústia:-2.2 deprimido:-2.0 deprimida fracasso:-2.2 falsidade:-2.2 hipócrita:-2.4
hipócritas hipocrisia:-2.2 arrogância:-2.0 mimado:-1.4 mimada cansei:-1.4 puto:-2.0 putíssimo:-2.4 putíssima
nervosa:-1.1 difícil:-1.0 dificil
otário:-2.4 otária escroto:-2.6 escrota cretino:-2.4 cretina zoado:-1.6 zoada uó:-1.8 mancada:-1.8 furada:-1.6
cilada:-2.0 fuder:-2.4 foder fudeu:-2.2 fodeu enjoei:-1.4 enjoou cafona:-1.4 desagradável:-2.0 aturar:-1.2 aturando
amo:2.8 delícia:2.2 arrasou:2.4 arrasando arrasa diva:1.8 rainha:1.6 grande:0.8
forte:0.0 foda:0.0
af:-1.8 afs peste:-1.8 baranga:-1.6 vômito:-2.2 vomito ranso:-2.0 coitadinho:-1.0 coitadinha eca:-1.8 argh:-1.6
lascou:-1.6 lascar lascado lascada odeio:-2.7 fuck:-2.5
shows:0.0 vivo lutador lutadores tempos peso
traumático:-2.4 traumática ferrado:-2.0 ferrada ferrou putz:-1.0 canastrão:-1.6 fode:-2.4
ruins:-2.2 vish:-0.8 vixe urgh:-1.6 tnc:-2.4 vtnc:-2.6 krl:-1.5 patético:-2.4 patética patéticos arrombado:-2.8
arrombada vagabundo:-2.4 vagabunda safado:-1.6 safada deprê:-1.6 bad:-1.8 treta:-1.2 climão:-1.4 mico:-1.4
medonho:-2.2 medonha cringe:-1.6 zuado:-1.6 zuada desnecessário:-1.4 desnecessária aflição:-1.8 aflito:-1.6 aflita
humilhação:-2.2 cagou:-1.8 sdds:-0.6
fofo:2.0 fofa fofos fofas fofinho fofinha ícone:1.6 icone hino:1.4 lacrou:2.0 lacrando lacrar mito:1.4 dahora:1.8 daora
perfeição:2.6 tmj:1.2 amar:2.8 amando
prantos:-2.0 retrógrado:-1.8 retrógrada veneno:-1.8 embolorado:-2.0 embolorada mofado:-2.0 mofada clichê:-1.0 zicado:-1.6
zicada
""")

NL = words("""
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
saai:-2.0 saaie langdradig:-1.6 langdradige voorspelbaar:-1.3 voorspelbare matig:-1.4 matige
tenenkrommend:-2.0 middelmatig:-1.6 middelmatige slaapverwekkend:-2.2 overschat:-1.6 oppervlakkig:-1.2
zonde:-1.6 tijdverspilling:-2.4 geldverspilling:-2.4
spannend:2.0 spannende meesterwerk:2.8 ontroerend:2.0 ontroerende meeslepend:2.2 meeslepende
aangrijpend:2.0 aangrijpende genoten:2.2 grappig:1.6 grappige
lastig:-1.0 lastige tegenvaller:-2.2 tegenvallen:-1.8 tegenvallend tegenvallende slap:-1.6 slappe
kinderlijk:-1.4 kinderlijke flinterdun:-1.6 warrig:-1.8 warrige dunnetjes:-1.4 onwaardig:-2.0 merkwaardig:-0.6
ramp:-2.4 bizar:-1.4 bizarre trots:1.8 waanzinnig:1.5 aardig:0.8 makkelijk:1.2 uitgelezen:1.2 ervaren:0.3
duidelijk:0.8 terecht:0.6 best:0.6
afrader:-2.4 domper:-1.8 prutswerk:-2.2 bedrog:-2.4 humorloos:-1.6 sneu:-1.4 harteloos:-2.2 schijnheilig:-2.2
hypocrisie:-2.2 arrogantie:-2.2 minachting:-2.2 leugen:-2.2 leugens liegen:-2.0 liegt gelogen leugenaar:-2.4
onzin:-1.8 flauwekul kolder:-1.6 schandaal:-2.2 misbruik:-2.0 misbruiken mislukt:-2.0 mislukking falen:-1.8 faalt
falend falende gefaald wanbeleid:-2.4 chaos:-1.8 chaotisch gedoe:-1.2 ellende:-2.0 onaanvaardbaar:-2.2
woede:-2.0 schaamte:-1.6 verdriet:-1.8 dupe:-1.6 bangmakerij:-2.0 zorgwekkend:-1.8 zorgwekkende
erger:-1.8 ergste:-2.4 stom:-1.8 stomme kut:-2.4 klote:-2.2 kotsen:-2.2 gatver:-2.0 getver nep:-1.4 pech:-1.2
""")
