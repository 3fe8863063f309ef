"""The speed benchmark's loops (vit_inpaint/benchmarks/epochs.py) train what they say: each timed
epoch is the configured number of optimizer steps. The report made of their times is tested
without training in tests/unit/test_bench.py."""

from collections import Counter

import pytest

from vit_inpaint.benchmarks import epochs as loops

# The report's model, shrunk: the loops' behaviour, not their speed, is under test.
MODEL = {"patch_size": 2, "dim": 32, "depth": 1, "heads": 4, "mlp_ratio": 2.0, "attention": "sdpa"}


@pytest.mark.slow  # trains: four short runs of the real loops
@pytest.mark.filterwarnings("ignore:The number of training batches")  # 4 batches, on purpose
def test_every_timed_loop_trains_for_the_configured_epochs_and_times_each(tmp_path):
    from torch.optim.optimizer import register_optimizer_step_post_hook

    images, masks = loops.make_data(256, 4)
    assert images.shape == masks.shape == (256, 4, 4)
    assert (masks.flatten(1).sum(1) == 4).all()  # one 2x2 patch hidden per image
    loop = [None]
    steps = Counter()
    handle = register_optimizer_step_post_hook(
        lambda optimizer, args, kwargs: steps.update([loop[0]])
    )
    runs = {
        "naive": lambda: loops.run_naive(images, masks, MODEL, 64, 2),
        "bare": lambda: loops.run_bare(images, masks, MODEL, 64, 2),
        "project": lambda: loops.run_project(256, 4, MODEL, 64, 2, tmp_path / "project"),
        "lightning": lambda: loops.run_project(
            256, 4, MODEL, 64, 2, tmp_path / "lightning", extra_overrides=loops.BAREBONES
        ),
    }
    try:
        for name, run in runs.items():
            loop[0] = name
            times = run()
            # One time per training epoch (the Trainer's validation is not a second one), and
            # every epoch timed is 256 / 64 = 4 optimizer steps: 2 epochs, 8 steps.
            assert len(times) == 2 and all(t > 0 for t in times), (name, times)
            assert steps[name] == 8, (name, steps)
    finally:
        handle.remove()
    # The project's run is a default run (its checkpoints and logs); barebones writes none.
    assert (tmp_path / "project" / "checkpoints" / "last.ckpt").is_file()
    assert not (tmp_path / "lightning" / "checkpoints").exists()
