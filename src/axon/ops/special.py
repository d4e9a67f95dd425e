"""Special functions NumPy lacks, vectorised over arrays (no Python loop per element).

``erf`` uses W. J. Cody's rational Chebyshev approximations ("Rational
Chebyshev approximations for the error function", Math. Comp. 23, 1969,
pp. 631-638), which are accurate to double precision on three intervals:

- |x| <= 0.46875:    erf(x)  = x * P(x^2) / Q(x^2)
- 0.46875 < |x| <= 4: erfc(x) = exp(-x^2) * P(|x|) / Q(|x|)
- |x| > 4:            erfc(x) = exp(-x^2) / |x| * (1/sqrt(pi) + R(1/x^2) / x^2)
"""

from __future__ import annotations

import numpy as np

_A = (
    3.1611237438705656,
    113.864154151050156,
    377.485237685302021,
    3209.37758913846947,
    0.185777706184603153,
)
_B = (23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062)
_C = (
    0.564188496988670089,
    8.88314979438837594,
    66.1191906371416295,
    298.635138197400131,
    881.95222124176909,
    1712.04761263407058,
    2051.07837782607147,
    1230.33935479799725,
    2.15311535474403846e-8,
)
_D = (
    15.7449261107098347,
    117.693950891312499,
    537.181101862009858,
    1621.38957456669019,
    3290.79923573345963,
    4362.61909014324716,
    3439.36767414372164,
    1230.33935480374942,
)
_P = (
    0.305326634961232344,
    0.360344899949804439,
    0.125781726111229246,
    0.0160837851487422766,
    6.58749161529837803e-4,
    0.0163153871373020978,
)
_Q = (
    2.56852019228982242,
    1.87295284992346047,
    0.527905102951428412,
    0.0605183413124413191,
    0.00233520497626869185,
)
_ONE_OVER_SQRT_PI = 0.56418958354775628695


def _ratio(num_coeffs, den_coeffs, t, n_loop):
    """Cody's evaluation order for P(t)/Q(t) (keeps full precision)."""
    num = num_coeffs[-1] * t
    den = t
    for i in range(n_loop):
        num = (num + num_coeffs[i]) * t
        den = (den + den_coeffs[i]) * t
    return num + num_coeffs[n_loop], den + den_coeffs[n_loop]


def _erfc_positive(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y > 0.46875 (float64)."""
    out = np.empty_like(y)
    mid = y <= 4.0
    ym = y[mid]
    num, den = _ratio(_C, _D, ym, 7)
    out[mid] = np.exp(-ym * ym) * num / den
    yl = y[~mid]
    inv2 = 1.0 / (yl * yl)
    num, den = _ratio(_P, _Q, inv2, 4)
    tail = (_ONE_OVER_SQRT_PI - inv2 * num / den) / yl
    out[~mid] = np.exp(-yl * yl) * tail
    return out


# float32: erf(x) ~ x P(x^2) / Q(x^2) on [-4, 4] (erf(4) rounds to 1 in float32), the
# rational approximation Eigen and XLA use; max relative error ~4.5e-7 (a few ulp).
_ALPHA = tuple(
    np.float32(c)
    for c in (
        -2.72614225801306e-10,
        2.77068142495902e-08,
        -2.10102402082508e-06,
        -5.69250639462346e-05,
        -7.34990630326855e-04,
        -2.95459980854025e-03,
        -1.60960333262415e-02,
    )
)
_BETA = tuple(
    np.float32(c)
    for c in (
        -1.45660718464996e-05,
        -2.13374055278905e-04,
        -1.68282697438203e-03,
        -7.37332916720468e-03,
        -1.42647390514189e-02,
    )
)


_CHUNK = 1 << 16  # elements per block: ~10 passes over a block stay in the L2 cache


def _erf_float32(x: np.ndarray) -> np.ndarray:
    """erf of a float32 array in float32: x / Q(x^2) * P'(x^2), block by block, no masks.

    ~10x faster than the float64 path on large arrays (e.g. GELU in a transformer).
    """
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    x2, poly = (
        np.empty(min(_CHUNK, flat.size), np.float32),
        np.empty(min(_CHUNK, flat.size), np.float32),
    )
    for start in range(0, flat.size, _CHUNK):
        y = out[start : start + _CHUNK]
        t, d = x2[: y.size], poly[: y.size]
        np.clip(flat[start : start + _CHUNK], np.float32(-4), np.float32(4), out=y)
        np.multiply(y, y, out=t)
        for coeffs in (_BETA, _ALPHA):  # y = x / Q(x^2), then y * P(x^2) (Horner, in place)
            np.multiply(t, coeffs[0], out=d)
            for c in coeffs[1:-1]:
                d += c
                d *= t
            d += coeffs[-1]
            if coeffs is _BETA:
                y /= d
            else:
                y *= d
    return out.reshape(x.shape)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise.

    float32 input: computed in float32 (``_erf_float32``, a few ulp); anything
    else: computed in float64 (Cody, double precision) and returned in ``x``'s dtype.
    """
    x = np.asarray(x)
    if x.dtype == np.float32:
        return _erf_float32(x)
    x64 = x.astype(np.float64)
    y = np.abs(x64)
    out = np.empty_like(x64)
    small = y <= 0.46875
    xs = x64[small]
    t = xs * xs
    num, den = _ratio(_A, _B, t, 3)
    out[small] = xs * num / den
    big = ~small
    erfc_big = _erfc_positive(y[big])
    out[big] = np.copysign(1.0 - erfc_big, x64[big])
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out
