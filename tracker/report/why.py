"""Why a narrative moved: the words that set a week's articles apart from the weeks before.

:func:`distinctive_terms` is the weighted log-odds ratio with an informative Dirichlet
prior (Monroe, Colaresi and Quinn 2008, "Fightin' Words", eq. 22): for each word w,

    delta_w = log((y_w + a_w) / (n + a0 - y_w - a_w)) - log((r_w + a_w) / (m + a0 - r_w - a_w))

with ``y`` the week's counts (``n`` words), ``r`` the trailing weeks' counts (``m`` words)
and the prior ``a_w = a0 * (y_w + r_w) / (n + m)`` (the two corpora pooled, scaled to
``a0`` pseudo-words), divided by its standard error ``sqrt(1/(y_w + a_w) + 1/(r_w + a_w))``.
The prior shrinks rare words toward zero, so one off-topic article cannot put its
vocabulary at the top; the z-score orders words by how sure we are, not by raw ratio.
Pure functions of texts; the serving pages and the report both call them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

#: Words of three letters or more (digits allowed inside: "q3", "gpt5"), lower-cased.
_WORD = re.compile(r"[a-z][a-z0-9'-]{2,}")
#: News boilerplate that distinguishes nothing.
_EXTRA_STOP = frozenset({"said", "says", "year", "new", "according", "reuters", "told", "week",
                         "just", "like", "including", "percent", "000"})
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | _EXTRA_STOP


def tokens(text: str) -> list[str]:
    """The words of ``text`` that can distinguish a week (lower case, no stop words)."""
    return [w.strip("'-") for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def term_counts(texts: Iterable[str]) -> Counter[str]:
    """Document frequencies: each word once per text, so one long article cannot dominate."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(tokens(text)))
    return counts


@dataclass(frozen=True)
class Term:
    """One distinctive word: its z-score and its counts in the week and the reference."""

    term: str
    z: float
    week: int
    reference: int


def distinctive_terms(week: Counter[str], reference: Counter[str], *, prior_words: float = 500.0,
                      min_count: int = 3, top: int = 15) -> list[Term]:
    """Words over-represented in ``week`` against ``reference`` (weighted log-odds, z > 0 first)."""
    n, m = sum(week.values()), sum(reference.values())
    if n == 0:
        return []
    total = n + m
    out = []
    for word, y in week.items():
        if y < min_count:
            continue
        r = reference.get(word, 0)
        a = prior_words * (y + r) / total
        delta = (math.log((y + a) / (n + prior_words - y - a))
                 - math.log((r + a) / (m + prior_words - r - a)))
        z = delta / math.sqrt(1.0 / (y + a) + 1.0 / (r + a))
        if z > 0:
            out.append(Term(word, z, y, r))
    out.sort(key=lambda t: (-t.z, t.term))
    return out[:top]
