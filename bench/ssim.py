"""SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) on luminance, with numpy only.

The paper's settings, as in its reference MATLAB code and scikit-image's ``gaussian_weights=True`` mode: an 11 x 11
Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, L = 255, statistics over the window positions that fit entirely
inside the image ("valid" filtering), mean of the SSIM map. Luminance is ITU-R BT.601 luma (0.299 R + 0.587 G +
0.114 B), as MATLAB's ``rgb2gray`` — what the paper's authors compare.
"""
from __future__ import annotations

import numpy as np

SIGMA = 1.5
RADIUS = 5  # 11 taps
K1, K2, L = 0.01, 0.03, 255.0


def gaussian_window(sigma: float = SIGMA, radius: int = RADIUS) -> np.ndarray:
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-(x * x) / (2 * sigma * sigma))
    return weights / weights.sum()


def luminance(image) -> np.ndarray:
    """BT.601 luma of a PIL image or an array (H x W or H x W x 3), as float64 on the 0..255 scale."""
    array = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image, dtype=np.float64)
    if array.ndim == 2:
        return array
    return array[..., 0] * 0.299 + array[..., 1] * 0.587 + array[..., 2] * 0.114


def _filter(plane: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Separable 'valid' convolution: rows, then columns."""
    size = len(window)
    rows = np.lib.stride_tricks.sliding_window_view(plane, size, axis=1) @ window
    return np.lib.stride_tricks.sliding_window_view(rows, size, axis=0) @ window


def ssim(first, second) -> float:
    """Mean SSIM of the luminance of two images of the same size (PIL images or arrays)."""
    x, y = luminance(first), luminance(second)
    if x.shape != y.shape:
        raise ValueError(f"sizes differ: {x.shape} and {y.shape}")
    window = gaussian_window()
    if min(x.shape) < len(window):
        raise ValueError("images smaller than the 11 x 11 window")
    c1, c2 = (K1 * L) ** 2, (K2 * L) ** 2
    mu_x, mu_y = _filter(x, window), _filter(y, window)
    xx, yy, xy = _filter(x * x, window), _filter(y * y, window), _filter(x * y, window)
    var_x, var_y, cov = xx - mu_x * mu_x, yy - mu_y * mu_y, xy - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2))
    return float(ssim_map.mean())
