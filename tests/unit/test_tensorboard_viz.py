"""What TensorBoard and the console show: the HParams summaries a run writes, the end-of-run
summaries, and the reconstruction grid."""

import numpy as np
import torch

from vit_inpaint.viz.hparams import METRIC_PREFIX, hparams_of, overridden, summaries
from vit_inpaint.viz.summary import console_summary, markdown_summary
from vit_inpaint.viz.tensorboard import COLUMN_LABELS, HEADER_HEIGHT, reconstruction_grid


def parse(summary_list):
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    return {
        s.value[0].tag: HParamsPluginData.FromString(s.value[0].metadata.plugin_data.content)
        for s in summary_list
    }


def test_hparams_put_the_command_line_settings_and_test_metrics_first(tiny_config):
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams.backend_context import _sort_and_reduce_to_hparams_limit

    cfg = tiny_config("masking=pixel")
    metrics = {"val/mse": 0.1, "test/pixel/mse": 0.2, "test/nmse": 1.0, "test/mse": 0.3}
    differs = overridden(["masking=pixel", "seed=3", "+extra=1"])
    assert differs == {"masking", "seed"}
    hparams = hparams_of(cfg, {"data": "uniform_noise", "masking": "pixel"})
    assert hparams["data"] == "uniform_noise"  # the name the user typed, not the class's
    data = parse(summaries(hparams, metrics, differs))
    experiment = data["_hparams_/experiment"].experiment
    # The server's own sort (then the page shows the first 5): set ones first, then by rank.
    _sort_and_reduce_to_hparams_limit(experiment)
    shown = [info.display_name for info in experiment.hparam_infos]
    assert shown[:5] == ["masking", "seed", "data", "model.dim", "model.depth"]
    # The key metrics only (the others are in the text summary); single values under
    # METRIC_PREFIX, a validation metric read from its own curve.
    infos = experiment.metric_infos
    assert [m.display_name for m in infos] == ["test/mse", "test/nmse", "val/mse"]
    assert [m.name.tag for m in infos] == [
        METRIC_PREFIX + "test/mse",
        METRIC_PREFIX + "test/nmse",
        "val/mse",
    ]
    types = {info.display_name: info.type for info in experiment.hparam_infos}
    assert types["fresh_masks"] == api_pb2.DATA_TYPE_BOOL
    assert types["lr"] == api_pb2.DATA_TYPE_FLOAT64
    assert types["model.dim"] == api_pb2.DATA_TYPE_FLOAT64  # a number: sorts as one
    start = data["_hparams_/session_start_info"].session_start_info.hparams
    by_name = {name.split(" ", 1)[1]: value for name, value in start.items()}
    assert by_name["masking"].string_value == "pixel"
    assert by_name["fresh_masks"].WhichOneof("kind") == "bool_value"
    assert by_name["model.dim"].number_value == 32


def test_summaries_say_what_matters_and_keep_every_metric(tmp_path):
    metrics = {
        "val/mse": 0.08609,
        "test/mse": 0.08445,
        "test/mse_bayes": 0.0833,
        "test/rate_failed": 0.954,
        "test/pixel/mse": 0.0829,
        "val/coverage": 0.25,
    }
    text = console_summary(metrics, tmp_path)
    assert text.splitlines()[0] == (
        "finished: val mse (last epoch) 0.08609, test mse 0.08445, "
        "Bayes limit (best possible) 0.0833, failed 95.4%"
    )
    assert f"tensorboard --logdir {tmp_path}" in text
    table = markdown_summary(metrics)
    assert "| metric | val | test | test/pixel |" in table
    assert "| mse | 0.08609 | 0.08445 | 0.0829 |" in table
    assert "| rate_failed |  | 95.4% |  |" in table
    # A classifier on Gaussian fields: its NLL against the Bayes classifier's, as the docs give it.
    classifier = {"test/acc": 0.985, "test/nll": 0.04121, "test/nll_bayes": 0.03865}
    assert console_summary(classifier, tmp_path).splitlines()[0] == (
        "finished: test accuracy 98.5%, test nll 0.04121, Bayes classifier's nll 0.03865, "
        "test nll / Bayes 1.066x"
    )


def test_reconstruction_grid_labels_its_columns_and_shows_the_tools_error():
    torch.manual_seed(0)
    images = torch.rand(2, 4, 4)
    masks = torch.zeros(2, 4, 4, dtype=torch.bool)
    masks[:, 1:3, 1:3] = True
    pred = torch.rand(2, 4, 4) * 1.4 - 0.2  # out of [0, 1] too: the tool clips
    scale, gap = 8, 2
    grid = reconstruction_grid(images, masks, pred, scale=scale, gap=gap)
    tile = 4 * scale + gap
    assert grid.shape == (3, HEADER_HEIGHT + 2 * tile, len(COLUMN_LABELS) * tile)
    header = grid[:, :HEADER_HEIGHT]
    for column in range(len(COLUMN_LABELS)):  # dark text drawn over each column
        assert header[:, :, column * tile : (column + 1) * tile].min() < 0.5

    def column(index: int, channel: int = 0) -> torch.Tensor:  # (2, H, W), each pixel's centre
        body = grid[channel, HEADER_HEIGHT:].reshape(2, tile, -1)[:, : 4 * scale]
        cells = body[:, :, index * tile : index * tile + 4 * scale]
        return cells[:, scale // 2 :: scale, scale // 2 :: scale]

    expected = torch.where(masks, pred.clamp(0, 1), images)
    assert torch.allclose(column(2), expected)
    assert torch.equal(column(3)[~masks], torch.zeros(int((~masks).sum())))
    assert torch.allclose(column(3), (expected - images).abs())
    assert np.isclose(float(column(0)[0, 0, 0]), float(images[0, 0, 0]))
    # The hole is outlined in yellow on the inpainted column: its border pixels, only there.
    inpainted = grid[:, HEADER_HEIGHT : HEADER_HEIGHT + 4 * scale, 2 * tile : 2 * tile + 4 * scale]
    yellow = (inpainted[0] == 1.0) & (inpainted[1] == 0.85) & (inpainted[2] == 0.0)
    assert yellow[scale, scale : 3 * scale].all()  # the hole's top edge (pixel row 1)
    assert not yellow[: scale].any() and not yellow[2 * scale - 1, 2 * scale - 1]  # outside, centre
