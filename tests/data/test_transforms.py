"""Transforms: shapes, dtypes, seeding, and the identities they must satisfy."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon.data import transforms as T


@pytest.fixture
def images():
    return np.random.default_rng(0).random((6, 3, 8, 8), dtype=np.float32)


IMAGE_TRANSFORMS = [
    lambda: T.RandomCrop(8, padding=2),
    lambda: T.RandomHorizontalFlip(),
    lambda: T.ColorJitter(0.4, 0.4),
    lambda: T.RandomAffine(20, translate=(0.1, 0.2), scale=(0.8, 1.2)),
    lambda: T.RandomRotation(30, interpolation="nearest"),
    lambda: T.GaussianNoise(0.1),
    lambda: T.Normalize((0.5, 0.4, 0.3), (0.2, 0.2, 0.2)),
]


@pytest.mark.parametrize("make", IMAGE_TRANSFORMS)
def test_shape_dtype_and_seeding(make, images):
    axon.manual_seed(0)
    out = make()(images)
    assert out.shape == images.shape and out.dtype == np.float32
    axon.manual_seed(0)
    assert np.array_equal(make()(images), out)  # manual_seed fixes the draws
    tensor_out = make()(axon.tensor(images))
    assert isinstance(tensor_out, axon.Tensor) and tensor_out.shape == images.shape


def test_own_generator_is_reproducible_and_advances(images):
    a, b = T.GaussianNoise(1.0, generator=5), T.GaussianNoise(1.0, generator=5)
    first = a(images)
    assert np.array_equal(first, b(images)) and not np.array_equal(first, a(images))


def test_compose_applies_in_order():
    pipeline = T.Compose([lambda x: x + 1, lambda x: x * 2])
    assert pipeline(np.ones(2)).tolist() == [4, 4]
    assert "Compose" in repr(T.Compose([T.Normalize(0, 1)]))


def test_normalize_math():
    x = np.random.default_rng(1).random((4, 3, 2, 2), dtype=np.float32)
    mean, std = np.array([0.1, 0.2, 0.3]), np.array([0.5, 1.0, 2.0])
    out = T.Normalize(mean, std)(x)
    assert np.allclose(out, (x - mean[:, None, None]) / std[:, None, None], atol=1e-6)
    assert np.allclose(T.Normalize(0.5, 0.25)(x), (x - 0.5) / 0.25)
    pixels = T.Normalize(128, 64)(np.full((1, 1, 2, 2), 192, np.uint8))
    assert pixels.dtype == np.float32 and (pixels == 1).all()
    with pytest.raises(ValueError, match="3 per-channel values"):
        T.Normalize(mean, std)(np.zeros((2, 4, 2, 2), np.float32))


def test_flip_twice_is_identity(images):
    flip = T.RandomHorizontalFlip(p=1.0)
    once = flip(images)
    assert np.array_equal(once, images[..., ::-1]) and np.array_equal(flip(once), images)
    assert np.array_equal(T.RandomHorizontalFlip(p=0.0)(images), images)


def test_crop_with_padding_sizes_and_content(images):
    out = T.RandomCrop(8, padding=2, generator=0)(images)
    assert out.shape == (6, 3, 8, 8)
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for img, src in zip(
        out, padded, strict=True
    ):  # every crop is some 8x8 window of the padded image
        assert any(
            np.array_equal(img, src[:, i : i + 8, j : j + 8]) for i in range(5) for j in range(5)
        )
    assert T.RandomCrop((5, 3))(images).shape == (6, 3, 5, 3)
    assert np.array_equal(T.RandomCrop(8)(images), images)  # no padding, full size: nothing to move
    with pytest.raises(ValueError, match="larger than"):
        T.RandomCrop(12, padding=1)(images)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_by_zero_is_identity(images, interpolation):
    assert np.allclose(T.RandomRotation(0, interpolation=interpolation)(images), images, atol=1e-6)


def test_rotation_by_90_matches_rot90(images):
    out = T.RandomRotation((90, 90), interpolation="nearest")(images)
    assert np.array_equal(out, np.rot90(images, 1, axes=(2, 3)))  # counter-clockwise as displayed


def shifted(img, k, fill):
    """``img`` moved right by ``k`` pixels, ``fill`` where nothing came in."""
    out = np.full_like(img, fill)
    w = img.shape[-1]
    if k >= 0:
        out[..., k:] = img[..., : w - k]
    else:
        out[..., :k] = img[..., -k:]
    return out


def test_affine_translation_moves_whole_pixels_and_fills():
    x = np.zeros((30, 1, 4, 4), np.float32)
    x[:, :, :, 1] = 1.0
    out = T.RandomAffine(translate=(0.25, 0), interpolation="nearest", fill=-1.0, generator=0)(x)
    moves = set()
    for img, src in zip(out, x, strict=True):  # up to 0.25 * 4 = 1 pixel either way
        (k,) = [k for k in (-1, 0, 1) if np.array_equal(img, shifted(src, k, -1.0))]
        moves.add(k)
    assert moves == {-1, 0, 1}
    assert np.allclose(T.RandomAffine(degrees=0, scale=(1.0, 1.0))(x), x)


def test_bilinear_rotation_blends_and_fills():
    out = T.RandomRotation((45, 45))(np.ones((2, 1, 9, 9), np.float32))
    assert out[0, 0, 4, 4] == pytest.approx(1.0)  # the centre stays
    assert out[0, 0, 0, 0] == 0.0  # a corner comes from outside the image
    assert ((out > 0) & (out < 1)).any()  # edges are blends


def test_color_jitter_range_and_identity(images):
    assert np.array_equal(T.ColorJitter()(images), images)
    out = T.ColorJitter(brightness=0.9, contrast=0.9)(images * 2)
    assert out.min() >= 0 and out.max() <= 1


def test_gaussian_noise_statistics():
    x = np.zeros((100, 1000), np.float32)
    out = T.GaussianNoise(0.5, generator=0)(x)
    assert out.dtype == np.float32 and abs(out.std() - 0.5) < 0.01 and abs(out.mean()) < 0.01


def test_random_shift_circular_and_zero():
    x = np.tile(np.arange(1, 11, dtype=np.float32), (50, 1))
    circ = T.RandomShift(3, generator=0)(x)
    shifts = set()
    for row in circ:
        (k,) = [k for k in range(-3, 4) if np.array_equal(row, np.roll(x[0], k))]
        shifts.add(k)
    assert len(shifts) > 3  # per-example shifts, not one for the batch
    zero = T.RandomShift(3, mode="zero", generator=0)(x)
    for row, c in zip(zero, circ, strict=True):
        kept = row != 0
        assert np.array_equal(row[kept], c[kept]) and (~kept).sum() <= 3
    channels = T.RandomShift(2, generator=1)(np.stack([x[:4], -x[:4]], axis=1))  # (N, C, L)
    assert np.array_equal(channels[:, 0], -channels[:, 1])  # channels move together


def test_token_masking():
    ids = np.tile(np.arange(10), (20, 1))
    out = T.RandomTokenMasking(0.5, mask_id=99, keep_ids=[0, 1], generator=0)(ids)
    assert out.dtype == ids.dtype and ((out == 99) | (out == ids)).all()
    assert (out[:, :2] == ids[:, :2]).all() and 0.3 < (out == 99).mean() < 0.5
    assert np.array_equal(T.RandomTokenMasking(0.0, 99)(ids), ids)
    assert (T.RandomTokenMasking(1.0, 99)(ids) == 99).all()


def test_synonym_replacement():
    text = "A good friend, a big House; very important."
    assert T.SynonymReplacement(0.0)(text) == text
    out = T.SynonymReplacement(1.0, generator=0)(text)
    words = out.replace(",", "").replace(";", "").replace(".", "").split()
    assert words[0] == "A" and words[2] in T.SYNONYMS["friend"] and words[5] in ("Home", "Dwelling")
    assert out.count(",") == 1 and out.endswith(".")
    assert T.SynonymReplacement(1.0, table={"cat": ["feline"]})(["the cat", "a dog"]) == [
        "the feline",
        "a dog",
    ]
    assert len(T.SYNONYMS) >= 30 and all(v for v in T.SYNONYMS.values())
