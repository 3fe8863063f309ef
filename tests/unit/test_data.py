import torch

from vit_inpaint.data.datamodule import InpaintingDataModule
from vit_inpaint.data.masking import BlockMasking
from vit_inpaint.data.settings import DataConfig
from vit_inpaint.data.sources import UniformNoise

# data=uniform_noise's settings, smaller splits: what each test changes is named in its call.
SMALL = dict(image_size=4, num_train=200, num_val=50, num_test=50, batch_size=32)
SMALL.update(eval_batch_size=1000, seed=0, fresh_masks=False, fresh_images=False)


def data_settings(images=None, **changes) -> DataConfig:
    return DataConfig(images=images or UniformNoise(), **{**SMALL, **changes})


def datamodule(masking=None, images=None, **changes):
    masking = masking or BlockMasking(size=2)
    dm = InpaintingDataModule(data_settings(images, **changes), masking)
    dm.setup()
    return dm


def test_splits_have_their_sizes_and_their_own_seed_streams():
    dm = datamodule()
    assert dm.images["train"].shape == (200, 4, 4) and dm.masks["val"].shape == (50, 4, 4)
    assert not torch.equal(dm.images["val"], dm.images["test"])
    assert 0 <= dm.images["train"].min() and dm.images["train"].max() <= 1
    # Changing the training set size leaves validation and test untouched.
    other = datamodule(num_train=100)
    assert torch.equal(dm.images["val"], other.images["val"])
    assert torch.equal(dm.masks["test"], other.masks["test"])


def test_same_seed_same_data_and_another_seed_other_data():
    a, b, c = datamodule(seed=1), datamodule(seed=1), datamodule(seed=2)
    assert torch.equal(a.images["train"], b.images["train"])
    assert torch.equal(a.masks["train"], b.masks["train"])
    assert not torch.equal(a.images["train"], c.images["train"])


def test_an_epoch_serves_every_training_image_once_in_a_new_order():
    dm = datamodule()
    epochs = []
    for epoch in range(2):
        dm._epoch = lambda e=epoch: e
        batches = list(dm.train_dataloader())
        assert len(batches) == len(dm.train_dataloader()) == 7
        images = torch.cat([b[0] for b in batches])
        epochs.append(images)
        served = sorted(images.sum((1, 2)).tolist())
        assert served == sorted(dm.images["train"].sum((1, 2)).tolist())
    assert not torch.equal(epochs[0], epochs[1])


def test_masks_stay_with_their_images_when_shuffled():
    dm = datamodule()
    pairs = zip(dm.images["train"], dm.masks["train"], strict=True)
    key = {float(img.sum()): m for img, m in pairs}
    for images, masks in dm.train_dataloader():
        for img, m in zip(images, masks, strict=True):
            assert torch.equal(key[float(img.sum())], m)


def test_fresh_masks_change_every_epoch_only_when_asked():
    fixed, fresh = datamodule(), datamodule(fresh_masks=True)
    for dm in (fixed, fresh):
        dm._epoch = lambda: 0
        dm.e0 = torch.cat([m for _, m in dm.train_dataloader()])
        dm._epoch = lambda: 1
        dm.e1 = torch.cat([m for _, m in dm.train_dataloader()])
    # Fixed masks: the same multiset of masks each epoch (only the order changes).
    assert sorted(map(tuple, fixed.e0.flatten(1).int().tolist())) == sorted(
        map(tuple, fixed.e1.flatten(1).int().tolist())
    )
    assert (fresh.e0.flatten(1).sum(1) == 4).all()
    assert sorted(map(tuple, fresh.e0.flatten(1).int().tolist())) != sorted(
        map(tuple, fresh.e1.flatten(1).int().tolist())
    )


def test_validation_batches_are_fixed_and_in_order():
    dm = datamodule(eval_batch_size=20)
    batches = list(dm.val_dataloader())
    assert [len(b[0]) for b in batches] == [20, 20, 10]
    assert torch.equal(torch.cat([b[0] for b in batches]), dm.images["val"])


def test_test_images_come_with_every_kind_of_mask():
    from vit_inpaint.data.masking import TEST_SETS

    dm = datamodule()
    assert list(dm.test_masks) == list(TEST_SETS) == ["", "pixel", "patch2x2", "block2x2"]
    assert torch.equal(dm.test_masks[""], dm.masks["test"])
    hidden = {name: int(m.flatten(1).sum(1).unique()) for name, m in dm.test_masks.items() if name}
    assert hidden == {"pixel": 1, "patch2x2": 4, "block2x2": 4}
    loaders = dm.test_dataloader()
    assert len(loaders) == 4
    for loader, name in zip(loaders, TEST_SETS, strict=True):
        images, masks = next(iter(loader))
        assert torch.equal(images, dm.images["test"][: len(images)])
        assert torch.equal(masks, dm.test_masks[name][: len(images)])


def test_fresh_images_give_a_new_training_set_each_epoch():
    dm = datamodule(fresh_images=True)
    first = dm.images["train"].clone()
    dm._epoch = lambda: 0
    epoch0 = torch.cat([b[0] for b in dm.train_dataloader()])
    dm._epoch = lambda: 1
    epoch1 = torch.cat([b[0] for b in dm.train_dataloader()])
    assert sorted(epoch0.sum((1, 2)).tolist()) == sorted(first.sum((1, 2)).tolist())
    assert not set(epoch1.sum((1, 2)).tolist()) & set(first.sum((1, 2)).tolist())
    assert torch.equal(dm.images["train"], first)  # the stored set (behind train_mean) stays


def test_ddp_shards_split_an_epoch_into_equal_disjoint_parts():
    from vit_inpaint.data.datamodule import TensorBatches

    dm = datamodule(num_train=203)  # odd on purpose: 203 = 2 x 101 + 1
    images, masks = dm.images["train"], dm.masks["train"]
    shards = [
        TensorBatches(images, masks, 32, seed=5, shuffle=True, shard=rank, num_shards=2)
        for rank in (0, 1)
    ]
    served = [torch.cat([b[0] for b in shard]) for shard in shards]
    # Equal step counts, or one process waits forever at the other's gradient all-reduce.
    assert len(served[0]) == len(served[1]) == 101
    assert len(shards[0]) == len(shards[1]) == len(list(shards[0])) == 4
    keys = [set(s.sum((1, 2)).tolist()) for s in served]
    assert not keys[0] & keys[1]
    # Together the shards are the unsharded epoch's order, interleaved, minus the odd one out.
    whole = torch.cat([b[0] for b in TensorBatches(images, masks, 32, seed=5, shuffle=True)])
    assert torch.equal(whole[0:202:2], served[0]) and torch.equal(whole[1:202:2], served[1])


def draw_every_stream(dm, epochs: int) -> dict[tuple[int, ...], set[str]]:
    """Every seed stream a data module draws (key -> the functions that drew it) while it sets up,
    serves `epochs` training epochs, and serves validation and test."""
    import sys

    from vit_inpaint.data import seeds

    drawn: dict[tuple[int, ...], set[str]] = {}
    plumbing = {"stream_seed", "generator", "_generator", "order_stream", "<lambda>"}
    original = seeds.stream_seed

    def recording(*keys):
        frame = sys._getframe(1)
        while frame.f_code.co_name in plumbing:
            frame = frame.f_back
        drawn.setdefault(keys, set()).add(frame.f_code.co_name)
        return original(*keys)

    seeds.stream_seed = recording
    try:
        dm.setup()
        for epoch in range(epochs):
            dm._epoch = lambda e=epoch: e
            list(dm.train_dataloader())
        list(dm.val_dataloader())
        loaders = dm.test_dataloader()
        for loader in loaders if isinstance(loaders, list) else [loaders]:
            list(loader)
    finally:
        seeds.stream_seed = original
    return drawn


def test_every_random_stream_of_a_seed_is_its_own():
    """The shuffle, each split's images and masks, fresh images and masks per epoch and the test
    masks of every kind: no two purposes share a stream (the shuffle of epoch 0 once drew the test
    images' stream, and of epoch 1 the test masks')."""
    from vit_inpaint.data import seeds
    from vit_inpaint.data.labelled import LabelledDataModule
    from vit_inpaint.data.sources import GaussianField

    inpainting = datamodule(fresh_masks=True, fresh_images=True, num_train=60, num_val=30)
    inpainting.images = {}  # drawn again below, with the recorder on
    labelled = LabelledDataModule(
        data_settings(GaussianField(), num_train=60, num_val=30, num_test=30, fresh_images=True)
    )
    for dm in (inpainting, labelled):
        drawn = draw_every_stream(dm, epochs=3)
        assert any(seeds.ORDER in key[2:3] for key in drawn)  # the shuffle is among them
        shared = {key: users for key, users in drawn.items() if len(users) > 1}
        assert not shared, f"one stream drawn for several purposes: {shared}"
        first_draws = {
            key: tuple(torch.rand(8, generator=seeds.generator(*key)).tolist()) for key in drawn
        }
        assert len(set(first_draws.values())) == len(first_draws), "two streams draw alike"


def test_the_data_modules_are_built_on_the_data_config_and_its_checks():
    """One declaration of the data settings (data/settings.py DataConfig): the modules take it,
    its checks refuse a bad value for a library user too, and inpainting does not carry
    data=digits' labels_per_class (a classification setting)."""
    import pytest

    from tests.conftest import compose_config
    from vit_inpaint.data.datamodule import build_inpainting_data
    from vit_inpaint.data.labelled import build_labelled_data

    with pytest.raises(ValueError, match="data.batch_size .* larger than the training set"):
        datamodule(batch_size=500)
    cfg = compose_config("data=digits", "data.labels_per_class=5")
    inpainting = build_inpainting_data(cfg)
    assert type(inpainting.data) is DataConfig and not hasattr(inpainting.data, "labels_per_class")
    assert inpainting.sizes == {"train": 1077, "val": 360, "test": 360}
    assert build_labelled_data(cfg).labels_per_class == 5
