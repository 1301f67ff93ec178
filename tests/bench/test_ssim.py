"""The benchmark's SSIM (scikit-image with the paper's settings, on BT.601 luminance)."""
import pytest

np = pytest.importorskip("numpy")

from bench.ssim import luminance, ssim  # noqa: E402


def noisy(image, amplitude, seed=1):
    rng = np.random.default_rng(seed)
    return np.clip(image.astype(int) + rng.integers(-amplitude, amplitude + 1, image.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def picture():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:120, 0:90]
    base = (128 + 60 * np.sin(x / 7) * np.cos(y / 11))[..., None] + rng.integers(-10, 11, (120, 90, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def test_identical_images_score_one(picture):
    assert ssim(picture, picture.copy()) == pytest.approx(1.0, abs=1e-12)


def test_more_noise_scores_lower_and_the_score_is_symmetric(picture):
    slight, strong = noisy(picture, 4), noisy(picture, 40)
    assert 0 < ssim(picture, strong) < ssim(picture, slight) < 1
    assert ssim(picture, strong) == pytest.approx(ssim(strong, picture), abs=1e-12)


def test_pil_images_and_arrays_give_the_same_score(picture):
    from PIL import Image

    other = noisy(picture, 20)
    assert ssim(Image.fromarray(picture), Image.fromarray(other)) == pytest.approx(ssim(picture, other), abs=1e-12)


def test_the_luma_is_the_papers():
    assert luminance(np.array([[[255, 0, 0]]], dtype=np.uint8))[0, 0] == pytest.approx(0.299 * 255)


def test_a_uniform_shift_is_scored_by_the_luminance_term_only():
    # Constant images: variances and covariance are 0, so SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1).
    first, second = np.full((20, 20), 100.0), np.full((20, 20), 120.0)
    c1 = (0.01 * 255) ** 2
    assert ssim(first, second) == pytest.approx((2 * 100 * 120 + c1) / (100 ** 2 + 120 ** 2 + c1))


def test_different_sizes_are_refused(picture):
    with pytest.raises(ValueError):
        ssim(picture, picture[:-1])
