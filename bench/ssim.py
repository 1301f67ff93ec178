"""SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) on luminance, by scikit-image.

The paper's settings, as in its reference MATLAB code: an 11 x 11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03,
L = 255, population covariance, mean of the SSIM map over the positions where the window fits — scikit-image's
``structural_similarity`` with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``. Luminance is ITU-R
BT.601 luma (0.299 R + 0.587 G + 0.114 B), as MATLAB's ``rgb2gray``: what the paper's authors compare.
(Until 2026-12-02 a numpy copy of the same formula; the two agree to 1e-15.)
"""
from __future__ import annotations

import numpy as np

SIGMA = 1.5
L = 255.0


def luminance(image) -> np.ndarray:
    """BT.601 luma of a PIL image or an array (H x W or H x W x 3), as float64 on the 0..255 scale."""
    array = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image, dtype=np.float64)
    if array.ndim == 2:
        return array
    return array[..., 0] * 0.299 + array[..., 1] * 0.587 + array[..., 2] * 0.114


def ssim(first, second) -> float:
    """Mean SSIM of the luminance of two images of the same size (PIL images or arrays)."""
    from skimage.metrics import structural_similarity

    x, y = luminance(first), luminance(second)
    if x.shape != y.shape:
        raise ValueError(f"sizes differ: {x.shape} and {y.shape}")
    return float(structural_similarity(x, y, gaussian_weights=True, sigma=SIGMA, use_sample_covariance=False,
                                       data_range=L))
