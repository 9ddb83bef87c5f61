"""Compiled kernels (numba): the row scan of a power trace in one pass over the raw codes, and HDF5's
Fletcher-32 checksum so that raw chunks can be written directly.

The row scan, for affine channels:

With V = gv·cv + ov and I = ga·ci + oa (no fractional deskew, no I·R correction) the power of a sample is

    P = A·cv·ci + B·cv + C·ci + D,   A = gv·ga, B = gv·oa, C = ov·ga, D = ov·oa

so a row's ΣP is A·Σ(cv·ci) + B·Σcv + C·Σci + n·D: exact integer sums of the codes, scaled once per row
(exact where the float64 path rounded every sample). The same pass keeps ΣP², the extremes of P and the
code extremes of both channels. One read of each code, instead of the numpy path's dozen passes over float64
arrays.

Fletcher-32 is HDF5's own (H5_checksum_fletcher32: 16-bit big-endian words, sums folded every 360 words),
appended little-endian to each chunk as the filter does on write, so HDF5 and any tool verify it on read.

numba is optional: without it (or for non-affine traces) app/measure/energy.py scans with numpy and the session is
written through HDF5's own filter; the tests compare both paths.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

try:                                    # pragma: no cover - exercised on machines with and without numba
    from numba import njit
    AVAILABLE = True
except ImportError:                     # pragma: no cover
    AVAILABLE = False

    def njit(*args, **kwargs):
        return lambda f: f


SIGN_CLEAR = np.int64(0x7FFFFFFFFFFFFFFF)


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _row_sums(cv, ci, a_coef, b_coef, c_coef, d_coef, p_out):  # pragma: no cover - compiled
    """One row: the integer sums of the codes, ΣP², the code extremes; each sample's P into p_out.
    Codes as float64 hold integers exactly, and so do their products (< 2**32) and a row's sums (< 2**41 <
    2**53): the sums are exact in any order, which lets them vectorise. Code extremes are taken on the
    integers (float min/max reductions do not vectorise)."""
    sx = 0.0
    sv = 0.0
    si = 0.0
    p2 = 0.0
    vmn = np.int32(2147483647)
    vmx = np.int32(-2147483648)
    imn = np.int32(2147483647)
    imx = np.int32(-2147483648)
    for k in range(cv.shape[0]):
        cvk = np.int32(cv[k])
        cik = np.int32(ci[k])
        v = np.float64(cvk)
        i = np.float64(cik)
        x = v * i
        sx += x
        sv += v
        si += i
        p = a_coef * x + b_coef * v + c_coef * i + d_coef
        p2 += p * p
        p_out[k] = p
        vmn = min(vmn, cvk)
        vmx = max(vmx, cvk)
        imn = min(imn, cik)
        imx = max(imx, cik)
    return sx, sv, si, p2, vmn, vmx, imn, imx


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _ordered_extremes(bits):  # pragma: no cover - compiled
    """Extremes of finite doubles given as their int64 bit patterns, in integer arithmetic (which
    vectorises): a non-negative double's bits order like its value, a negative's in reverse, so flipping
    a negative's 63 low bits gives keys that order like the values. Returns the keys."""
    lo = SIGN_CLEAR
    hi = -SIGN_CLEAR - 1
    for k in range(bits.shape[0]):
        b = bits[k]
        key = b ^ ((b >> 63) & SIGN_CLEAR)
        lo = min(lo, key)
        hi = max(hi, key)
    return lo, hi


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def rows_affine(cv, ci, row, a_coef, b_coef, c_coef, d_coef, r0, p_sum, p2_sum, p_min, p_max, v_lo, v_hi,
                i_lo, i_hi, cv_sum, ci_sum):  # pragma: no cover - compiled
    """Rows r0, r0+1, … of samples cv[k], ci[k] (k from 0), `row` samples a row (the last may be short).
    Each row is scanned through slices by small functions: indexing the slices from 0 lets the compiler
    vectorise the loops (it does not for the indices a..b of the whole chunk)."""
    m = cv.shape[0]
    nrows = (m + row - 1) // row
    p_row = np.empty(row)
    p_bits = p_row.view(np.int64)
    back = np.empty(2, np.int64)
    back_f = back.view(np.float64)
    for rr in range(nrows):
        a = rr * row
        b = min(a + row, m)
        n = b - a
        sx, sv, si, p2, vmn, vmx, imn, imx = _row_sums(cv[a:b], ci[a:b], a_coef, b_coef, c_coef, d_coef, p_row)
        lo, hi = _ordered_extremes(p_bits[:n])
        back[0] = lo ^ ((lo >> 63) & SIGN_CLEAR)          # the keys back to bit patterns (the map is its own
        back[1] = hi ^ ((hi >> 63) & SIGN_CLEAR)          # inverse)
        r = r0 + rr
        p_sum[r] = a_coef * sx + b_coef * sv + c_coef * si + n * d_coef
        p2_sum[r] = p2
        p_min[r] = back_f[0]
        p_max[r] = back_f[1]
        v_lo[r] = vmn
        v_hi[r] = vmx
        i_lo[r] = imn
        i_hi[r] = imx
        cv_sum[r] = sv                                   # the codes' sums: the caller scales them to V and A
        ci_sum[r] = si


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def code_sum_rails(codes, lo, hi):  # pragma: no cover - compiled
    """The sum of the codes and how many sit at or beyond the rails lo, hi: one pass (integer, vectorised)."""
    total = np.int64(0)
    rails = np.int64(0)
    for k in range(codes.shape[0]):
        c = np.int64(codes[k])
        total += c
        rails += (c <= lo) | (c >= hi)
    return total, rails


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def block_code_sum(codes, starts, length):  # pragma: no cover - compiled
    """The exact sum of the codes in [s, s + length) for every s in starts (integer, no index array)."""
    total = np.int64(0)
    for s in starts:
        for k in range(s, s + length):
            total += np.int64(codes[k])
    return total


@njit(cache=True, nogil=True)
def fletcher32(data):  # pragma: no cover - compiled
    """HDF5's Fletcher-32 of a uint8 array. HDF5 adds word after word and folds both sums every 360 words;
    over one block of t words the sums grow exactly by Σw and t·sum1 + Σ(t − j)·w_j (j from 0), which the
    compiler can vectorise, so the folds see the same values as HDF5's loop."""
    n = data.shape[0]
    words = n // 2
    sum1 = np.uint64(0)
    sum2 = np.uint64(0)
    mask = np.uint64(0xFFFF)
    sixteen = np.uint64(16)
    k = 0
    while words > 0:
        t = 360 if words > 360 else words
        words -= t
        s1 = np.uint64(0)
        s2 = np.uint64(0)
        for j in range(t):
            w = (np.uint64(data[k + 2 * j]) << np.uint64(8)) | np.uint64(data[k + 2 * j + 1])
            s1 += w
            s2 += np.uint64(t - j) * w
        k += 2 * t
        sum2 += np.uint64(t) * sum1 + s2
        sum1 += s1
        sum1 = (sum1 & mask) + (sum1 >> sixteen)
        sum2 = (sum2 & mask) + (sum2 >> sixteen)
    if n % 2:
        sum1 += np.uint64(data[k]) << np.uint64(8)
        sum2 += sum1
        sum1 = (sum1 & mask) + (sum1 >> sixteen)
        sum2 = (sum2 & mask) + (sum2 >> sixteen)
    sum1 = (sum1 & mask) + (sum1 >> sixteen)
    sum2 = (sum2 & mask) + (sum2 >> sixteen)
    return np.uint32((sum2 << sixteen) | sum1)
