"""Text augmentation: mask token ids, or swap words for synonyms.

Example::

    >>> RandomTokenMasking(p=0.15, mask_id=4, keep_ids=[0])(ids)   # ids (N, T) int64
    >>> SynonymReplacement(p=0.3, generator=0)("a good big house")
    'a fine large house'
"""

from __future__ import annotations

import re

import numpy as np

from axon.data.transforms.base import Transform

# A small synonym table of axon's own: common English words whose listed
# replacements keep the meaning in most contexts. Deliberately avoids words
# with several unrelated senses ("right", "close", "light").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "good": ("fine", "nice", "great"),
    "bad": ("poor", "awful"),
    "big": ("large", "huge"),
    "small": ("little", "tiny"),
    "happy": ("glad", "cheerful"),
    "sad": ("unhappy", "gloomy"),
    "fast": ("quick", "rapid"),
    "slow": ("sluggish", "unhurried"),
    "begin": ("start", "commence"),
    "start": ("begin",),
    "finish": ("complete", "end"),
    "smart": ("clever", "bright"),
    "beautiful": ("lovely", "pretty"),
    "easy": ("simple", "effortless"),
    "difficult": ("hard", "tough"),
    "old": ("aged", "elderly"),
    "new": ("fresh", "novel"),
    "rich": ("wealthy", "affluent"),
    "angry": ("furious", "cross"),
    "funny": ("amusing", "comic"),
    "quiet": ("silent", "calm"),
    "loud": ("noisy", "booming"),
    "strong": ("powerful", "sturdy"),
    "weak": ("feeble", "frail"),
    "brave": ("bold", "fearless"),
    "help": ("aid", "assist"),
    "buy": ("purchase",),
    "show": ("display", "reveal"),
    "answer": ("reply", "response"),
    "house": ("home", "dwelling"),
    "car": ("automobile", "vehicle"),
    "movie": ("film",),
    "film": ("movie",),
    "job": ("occupation", "post"),
    "friend": ("companion", "pal"),
    "child": ("kid", "youngster"),
    "road": ("street",),
    "idea": ("notion", "thought"),
    "important": ("significant", "crucial"),
    "famous": ("renowned", "celebrated"),
    "wrong": ("incorrect", "mistaken"),
    "often": ("frequently",),
    "maybe": ("perhaps",),
    "very": ("really", "extremely"),
    "tired": ("weary", "exhausted"),
    "afraid": ("scared", "frightened"),
    "silly": ("foolish",),
    "cold": ("chilly", "cool"),
    "great": ("excellent", "superb"),
    "terrible": ("dreadful", "awful"),
    "little": ("small",),
    "large": ("big",),
    "quick": ("fast",),
}

_WORD = re.compile(r"[A-Za-z]+")


class RandomTokenMasking(Transform):
    """Replace each token id by ``mask_id`` with probability ``p`` (BERT-style masking).

    Args:
        keep_ids: ids never masked (padding, BOS/EOS, ...).

    Shape: int ids of any shape (N, T) -> the same.
    """

    def __init__(self, p: float, mask_id: int, keep_ids=(), generator=None):
        super().__init__(generator)
        if not 0 <= p <= 1:
            raise ValueError(f"RandomTokenMasking: p must be in [0, 1], got {p}")
        self.p, self.mask_id, self.keep_ids = (
            float(p),
            int(mask_id),
            np.asarray(list(keep_ids), dtype=np.int64),
        )

    def apply(self, x: np.ndarray) -> np.ndarray:
        mask = self.rng.random(x.shape) < self.p
        if self.keep_ids.size:
            mask &= ~np.isin(x, self.keep_ids)
        return np.where(mask, np.asarray(self.mask_id, x.dtype), x)


class SynonymReplacement(Transform):
    """Replace each word found in ``table`` by a random synonym with probability ``p``.

    Works on text, before tokenizing: a string, or a list of strings (a
    batch). Capitalisation of the first letter is kept; other characters
    (spaces, punctuation) are untouched. Not vectorised: it is string work.

    Args:
        table: ``{word: (synonym, ...)}``, lower case (default ``SYNONYMS``).
    """

    def __init__(
        self, p: float = 0.1, table: dict[str, tuple[str, ...]] | None = None, generator=None
    ):
        super().__init__(generator)
        self.p = float(p)
        self.table = SYNONYMS if table is None else {k.lower(): tuple(v) for k, v in table.items()}

    def __call__(self, text):
        if isinstance(text, str):
            return self._replace(text)
        return [self._replace(t) for t in text]

    def _replace(self, text: str) -> str:
        rng = self.rng

        def swap(match: re.Match) -> str:
            word = match.group(0)
            options = self.table.get(word.lower())
            if not options or rng.random() >= self.p:
                return word
            new = options[int(rng.integers(len(options)))]
            return new[:1].upper() + new[1:] if word[0].isupper() else new

        return _WORD.sub(swap, text)
