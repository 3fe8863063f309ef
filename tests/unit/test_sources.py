import pytest
import torch

from tests.conftest import compose_config
from vit_inpaint.data.sources import GaussianField, Photos, UniformNoise, load_photo


def photo_splits() -> dict[str, list[str]]:
    """data=photos' splits, as conf/data/photos.yaml declares them (their only place)."""
    images = compose_config("data=photos").data.images
    return {split: list(images[split]) for split in ("train", "val", "test")}


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("size", [4, 8, 16])
def test_gaussian_field_has_the_stated_mean_variance_and_correlation(size):
    source = GaussianField(lengthscales=(2.0,))
    images = source.sample(20000, size, "train", gen())
    assert images.shape == (20000, size, size)
    assert images.mean() == pytest.approx(0.5, abs=0.005)
    assert images.var() == pytest.approx(0.04, rel=0.05)
    # Neighbours one pixel apart: correlation exp(-1 / (2 * 2^2)) = 0.8825.
    a, b = images[:, 0, 0], images[:, 0, 1]
    assert torch.corrcoef(torch.stack((a, b)))[0, 1] == pytest.approx(0.8825, abs=0.01)


def test_gaussian_field_mixes_lengthscales_per_image():
    # Short lengthscale: neighbours nearly independent; long: nearly equal. A mixture of both
    # shows as a bimodal spread of per-image neighbour differences.
    images = GaussianField(lengthscales=(0.3, 8.0)).sample(4000, 4, "train", gen())
    rough = (images[:, :, 1:] - images[:, :, :-1]).abs().mean((1, 2))
    assert (rough < 0.08).float().mean() == pytest.approx(0.5, abs=0.03)
    assert (rough > 0.12).float().mean() == pytest.approx(0.5, abs=0.03)


def test_gaussian_field_refuses_bad_parameters():
    with pytest.raises(ValueError, match="lengthscales"):
        GaussianField(lengthscales=(1.0, -1.0))
    with pytest.raises(ValueError, match="sigma"):
        GaussianField(sigma=0)


def test_uniform_noise_is_in_range():
    images = UniformNoise().sample(1000, 4, "train", gen())
    assert images.min() >= 0 and images.max() <= 1
    assert images.mean() == pytest.approx(0.5, abs=0.01)


def test_photo_splits_are_disjoint_and_load_offline():
    names = [n for split in photo_splits().values() for n in split]
    assert len(names) == len(set(names))
    for name in names:
        photo = load_photo(name)
        assert photo.dim() == 2 and photo.min() >= 0 and photo.max() <= 1
        assert min(photo.shape) >= 64


@pytest.mark.parametrize("size", [4, 8, 16])
def test_photo_crops_are_real_pieces_of_the_splits_photographs(size):
    splits = photo_splits()
    source = Photos(**splits)
    crops = source.sample(300, size, "test", gen())
    assert crops.shape == (300, size, size)
    assert 0 <= crops.min() and crops.max() <= 1
    photos = [load_photo(n) for n in splits["test"]]
    for crop in crops[:5]:
        found = False
        for photo in photos:
            # Every window whose top-left pixel matches the crop's, compared whole: the same
            # exact-match search as comparing every window, without building them all.
            h, w = photo.shape[0] - size + 1, photo.shape[1] - size + 1
            for row, col in (photo[:h, :w] == crop[0, 0]).nonzero().tolist():
                if torch.equal(photo[row : row + size, col : col + size], crop):
                    found = True
        assert found


def test_photos_refuse_overlapping_splits_and_unknown_names():
    with pytest.raises(ValueError, match="two splits"):
        Photos(train=["camera", "moon"], val=["moon"], test=["gravel"])
    with pytest.raises(ValueError, match="not a photograph"):
        Photos(train=["camera"], val=["moon"], test=["no_such_photo"])
    with pytest.raises(ValueError, match="data.images.train names no photograph"):
        Photos(val=["moon"], test=["gravel"])


def test_downscaled_photos_are_block_averages():
    full, half = load_photo("camera"), load_photo("camera", 2)
    assert half.shape == (full.shape[0] // 2, full.shape[1] // 2)
    assert half[3, 5] == pytest.approx(float(full[6:8, 10:12].mean()), abs=1e-6)


def test_the_inpainters_splits_are_its_recipes_and_keep_the_test_photographs_out():
    """data/settings.py INPAINTER_SPLITS (what `make evaluate` tests on) is what
    experiment=inpainter_full trains and selects on; no photograph is in two splits (`cat` is
    chelsea, a test photograph: in none)."""
    from vit_inpaint.data.settings import INPAINTER_SPLITS

    images = compose_config("experiment=inpainter_full").data.images
    for split in ("train", "val", "test"):
        assert list(images[split]) == INPAINTER_SPLITS[split]
    names = [n for split in INPAINTER_SPLITS.values() for n in split]
    assert len(names) == len(set(names)) and "cat" not in names
    assert len(INPAINTER_SPLITS["test"]) >= 6
    for name in names:  # every one loads offline, as one gray photograph
        photo = load_photo(name)
        assert photo.dim() == 2 and min(photo.shape) >= 64


def test_flip_and_turn_shows_training_crops_in_all_8_orientations_and_test_crops_as_they_are():
    source = Photos(train=["camera"], val=["moon"], test=["gravel"], flip_and_turn=True)
    plain = Photos(train=["camera"], val=["moon"], test=["gravel"])
    torch.testing.assert_close(
        source.sample(8, 8, "test", gen()), plain.sample(8, 8, "test", gen())
    )
    from vit_inpaint.data.sources import _flip_and_turn

    crop = torch.arange(16.0).reshape(1, 4, 4)  # no symmetry: its 8 orientations all differ
    seen = {tuple(x.flatten().tolist()) for x in _flip_and_turn(crop.repeat(200, 1, 1), gen())}
    assert len(seen) == 8
    turned = source.sample(50, 8, "train", gen())
    assert turned.shape == (50, 8, 8) and 0 <= turned.min() and turned.max() <= 1
