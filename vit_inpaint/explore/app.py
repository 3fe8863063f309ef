"""The explorer page's layout: three tabs wired to page.py's events (Gradio Blocks).

python -m vit_inpaint.explore [--port 7860] [--run outputs/runs/<time>]     (make explore)
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from vit_inpaint.explore import fill_photo, inside_vit
from vit_inpaint.explore.page import ALL_HEADS, CLICK_MODES, FIRST_HIDDEN, Page, Shown

INTRO = (
    "# Inside a tiny Vision Transformer\n"
    "Watch a ViT fill a hidden patch, layer by layer and head by head, beside the best possible "
    "answer; fill your own photo; read a digit. Every picture has a sentence under it that says "
    "what it shows and why."
)


FILL_NOTE = (
    "**Fill** runs the ViT inpainter, biharmonic, Telea and Navier-Stokes on the painted pixels "
    "and shows each fill, a zoom and what each changed: the model took about 1.5 s on the "
    "512x512 bundled photo on a loaded 2-core machine, longer on a larger photo; the first fill "
    "also loads the model (up to 90 s seen there)."
)
PICK_BRUSH = (
    "() => setTimeout(() => document.querySelector("
    "\"#digit-canvas button[aria-label='Brush']\")?.click(), 300)"
)


def kept(shown: Shown, count: int) -> tuple:
    """An event's outputs: its values and its message, or (on an error) the message alone, every
    other output left as it was."""
    values = shown.values if shown.values is not None else (gr.skip(),) * count
    return (*values, shown.message)


def inside_tab(page: Page):
    """Tab "Inside the ViT": its controls, its pictures, and what each control does. Returns
    what the page runs when it opens (the first sample, drawn; the controls fitted to the model)."""
    ui = SimpleNamespace()
    _inside_controls(page, ui)
    _inside_pictures(page, ui)
    events = InsideEvents(page, n_outputs=len(ui.outputs))
    _wire_inside(ui, events)
    fitting = (events.fit_controls, [ui.name, ui.masking, ui.index], [ui.lengthscale, ui.index])
    sample_outputs = [ui.image, ui.mask, ui.message]
    return (events.sampled, events.render, ui.sample_inputs, sample_outputs, ui.settings,
            ui.outputs, fitting)  # fmt: skip


def _inside_controls(page: Page, ui: SimpleNamespace) -> None:
    """The model, the mask, the sample and the message above the pictures."""
    with gr.Row():
        ui.name = gr.Dropdown(page.names, value=page.names[0], label="model", scale=2,
                              elem_id="inside-model")  # fmt: skip
        ui.masking = gr.Radio(list(inside_vit.MASKINGS), value="2x2 patch", label="hide",
                              scale=2, elem_id="inside-masking")  # fmt: skip
        # its range and the lengthscale's use follow the model (fit_controls, also on load)
        ui.index = gr.Number(0, precision=0, minimum=0, label="which patch (row by row)",
                             elem_id="inside-index")  # fmt: skip
    with gr.Row():
        ui.lengthscale = gr.Slider(0.5, 4.0, value=1.0, step=0.5, label="lengthscale (fields)",
                                   elem_id="inside-lengthscale")  # fmt: skip
        ui.seed = gr.Number(0, precision=0, label="seed (Enter applies)", minimum=0)
        ui.new = gr.Button("New image", variant="primary")
    ui.image, ui.mask = gr.State(None), gr.State(None)
    ui.message = gr.Markdown(elem_id="inside-message")


def _inside_pictures(page: Page, ui: SimpleNamespace) -> None:
    """The input and its tokens, the attention and its rollout, the fills, each with its
    sentence; the controls of the attention views between them."""
    with gr.Row():
        with gr.Column():
            # no label: it would cover patch 0's number; the sentence under it says "click"
            ui.picture = gr.Image(label="the input: click a pixel", interactive=False,
                                  show_label=False, elem_id="inside-input")  # fmt: skip
            ui.input_words = gr.Markdown()
            with gr.Row():
                ui.mode = gr.Radio(list(CLICK_MODES), value=CLICK_MODES[0], label="a click will")
                ui.brightness = gr.Slider(0, 1, value=1, step=0.05, label="paint brightness")
        with gr.Column():
            ui.tokens = gr.Image(label="the tokens", interactive=False, show_label=False)
            ui.tokens_words = gr.Markdown()
    first = page.names[0]
    with gr.Row():
        ui.view = gr.Dropdown(page.views(first), value=ALL_HEADS, label="layer and head")
        ui.query = gr.Dropdown(page.queries(first), value=FIRST_HIDDEN, label="query patch")
        ui.fusion = gr.Radio(list(inside_vit.FUSIONS), value="mean",
                             label="rollout: fuse heads by")  # fmt: skip
        ui.discard = gr.Slider(0, 0.9, value=0, step=0.1, label="rollout: drop the weakest links")
    ui.lesson = gr.Markdown(elem_id="inside-lesson")  # first: on noise the lesson is the fill
    ui.attention = gr.Image(label="attention of the query patch (framed) over the keys",
                            interactive=False, elem_id="inside-attention",
                            show_label=False)  # fmt: skip  # each panel has its own title
    ui.attention_words = gr.Markdown(elem_id="inside-attention-words")
    with gr.Row():
        ui.flow = gr.Image(label="attention rollout across layers", interactive=False,
                           show_label=False)  # fmt: skip
        ui.flow_words = gr.Markdown()
    ui.fills = gr.Image(label="the fills, hole outlined", interactive=False,
                        elem_id="inside-fills", show_label=False)  # fmt: skip
    ui.fills_words = gr.Markdown(elem_id="inside-fills-words")
    ui.outputs = [ui.picture, ui.input_words, ui.tokens, ui.tokens_words, ui.attention,
                  ui.attention_words, ui.lesson, ui.flow, ui.flow_words, ui.fills,
                  ui.fills_words, ui.message]  # fmt: skip
    ui.settings = [ui.name, ui.image, ui.mask, ui.view, ui.query, ui.fusion, ui.discard,
                   ui.lengthscale]  # fmt: skip
    ui.sample_inputs = [ui.name, ui.masking, ui.index, ui.lengthscale, ui.seed]


class InsideEvents:
    """What each control of tab "Inside the ViT" does, over page.py (which does the work)."""

    def __init__(self, page: Page, n_outputs: int):
        self.page = page
        self.n_outputs = n_outputs

    def render(self, *values):
        return kept(self.page.inside(*values), self.n_outputs - 1)

    def sampled(self, name_, masking_, index_, lengthscale_, seed_):
        return kept(self.page.new_image(name_, masking_, index_, lengthscale_, seed_), 2)

    def remasked(self, name_, image_, masking_, index_, mask_):
        return kept(self.page.remask(name_, image_, masking_, index_, mask_), 2)

    def clicked(self, name_, masking_, image_, mask_, mode_, brightness_, event: gr.SelectData):
        x, y = event.index
        shown = self.page.click(image_, mask_, mode_, brightness_, x, y)
        if shown.values is None:
            return gr.skip(), gr.skip(), gr.skip(), shown.message
        masking_after = self.page.masking_after_click(name_, masking_, shown.values[1])
        return (*shown.values, masking_after, "")

    def index_fits(self, name_, masking_, index_=0):
        """The index control's range and words follow the model and the mask kind."""
        try:
            last = self.page.last_index(name_, masking_)
        except inside_vit.ExploreError:
            return gr.skip()
        what = "pixel" if masking_ == "one pixel" else "patch"
        return gr.Number(min(int(index_ or 0), last), maximum=last,
                         label=f"which {what} (0-{last}, row by row; Enter applies)")  # fmt: skip

    def model_changed(self, name_, masking_, index_):
        try:
            views, queries = self.page.views(name_), self.page.queries(name_)
        except inside_vit.ExploreError as err:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), f"error: {err}"
        return (gr.Dropdown(views, value=ALL_HEADS), gr.Dropdown(queries, value=FIRST_HIDDEN),
                *self.fit_controls(name_, masking_, index_), "")  # fmt: skip

    def fit_controls(self, name_, masking_, index_):
        """The lengthscale is used on Gaussian fields only; the index's range is the model's."""
        fields = self.page.kind(name_) == "gaussian_field"
        words = "lengthscale (fields)" if fields else "lengthscale (not used: not a field model)"
        return gr.Slider(interactive=fields, label=words), self.index_fits(name_, masking_, index_)


def _wire_inside(ui: SimpleNamespace, events: InsideEvents) -> None:
    """Each control to its event; every change that alters the sample or the view redraws."""
    redraw = (events.render, ui.settings, ui.outputs)
    sample = (events.sampled, ui.sample_inputs, [ui.image, ui.mask, ui.message])
    ui.name.change(events.model_changed, [ui.name, ui.masking, ui.index],
                   [ui.view, ui.query, ui.lengthscale, ui.index, ui.message]
                   ).then(*sample).then(*redraw)  # fmt: skip
    for trigger in (ui.new.click, ui.lengthscale.release, ui.seed.submit):
        trigger(*sample).then(*redraw)
    # masking.input: a user's choice; a click that sets "clicked pixels" must not remask
    remask = (events.remasked, [ui.name, ui.image, ui.masking, ui.index, ui.mask],
              [ui.image, ui.mask, ui.message])  # fmt: skip
    ui.masking.input(events.index_fits, [ui.name, ui.masking, ui.index], ui.index).then(
        *remask
    ).then(*redraw)
    ui.index.submit(*remask).then(*redraw)
    ui.picture.select(events.clicked, [ui.name, ui.masking, ui.image, ui.mask, ui.mode,
                                       ui.brightness],
                      [ui.image, ui.mask, ui.masking, ui.message]).then(*redraw)  # fmt: skip
    for control in (ui.view, ui.query, ui.fusion):
        control.change(*redraw)
    ui.discard.release(*redraw)


def photo_tab(page: Page, downloads: Path) -> None:
    with gr.Row():
        bundled = gr.Dropdown(list(fill_photo.BUNDLED), value="camera", label="a bundled photo",
                              elem_id="photo-bundled")
        upload = gr.File(label="or upload a photo", file_types=None, elem_id="photo-upload")
        score = gr.Checkbox(True, label="hide and score: the photo is complete under the paint")
    photo = gr.State(None)
    note = gr.Markdown(elem_id="photo-message")
    editor = gr.ImageEditor(label="paint the pixels to fill", type="numpy", sources=(),
                            transforms=(), layers=False, elem_id="photo-editor",
                            brush=gr.Brush(colors=["#ff0000"], default_size=12))  # fmt: skip
    gr.Markdown(FILL_NOTE)
    go = gr.Button("Fill", variant="primary", elem_id="photo-fill")
    result = gr.Markdown(elem_id="photo-result")
    # each picture carries its panels' titles: a Gradio label would cover the first one
    whole = gr.Image(label="model | biharmonic | Telea | Navier-Stokes", interactive=False,
                     show_label=False)  # fmt: skip
    zoom = gr.Image(label="zoom on the painted regions", interactive=False, show_label=False)
    diff = gr.Image(label="what each method changed", interactive=False, show_label=False)
    download = gr.File(label="the model's fill and the painted mask (PNG, white = filled)",
                       file_count="multiple", elem_id="photo-download")  # fmt: skip

    def opened(bundled_, upload_):
        shown = page.open_photo(bundled_, upload_)
        if shown.values is None:
            return gr.skip(), gr.skip(), shown.message
        image, text = shown.values
        from vit_inpaint.viz.pictures import rgb, to_uint8

        background = {"background": to_uint8(rgb(image)), "layers": [], "composite": None}
        return image, background, text

    def filled(photo_, editor_, score_):
        layers = (editor_ or {}).get("layers") or []
        return kept(page.fill(photo_, layers, score_, downloads), 5)

    def uploaded(bundled_, upload_):
        """An upload replaces the bundled photo, and the bundled choice says so (cleared)."""
        photo_, background, text = opened(bundled_, upload_)
        shown = upload_ and not text.startswith("error")  # a refused file leaves the photo as is
        return photo_, background, text, gr.Dropdown(value=None) if shown else gr.skip()

    # a bundled photo picked by the user replaces an upload
    bundled.input(lambda bundled_: opened(bundled_, None), bundled, [photo, editor, note])
    upload.change(uploaded, [bundled, upload], [photo, editor, note, bundled])
    go.click(filled, [photo, editor, score], [whole, zoom, diff, result, download, note])
    return opened, [bundled, upload], [photo, editor, note]


def digits_tab(page: Page) -> None:
    with gr.Row():
        canvas = gr.Sketchpad(label="draw a digit", type="numpy",
                              canvas_size=(256, 256), elem_id="digit-canvas",
                              brush=gr.Brush(colors=["#000000"], default_size=24))  # fmt: skip
        with gr.Column():
            use_test = gr.Checkbox(False, label="read a test digit instead of the drawing")
            test_index = gr.Slider(0, 359, value=0, step=1, label="test digit")
            fusion = gr.Radio(list(inside_vit.FUSIONS), value="mean", label="fuse heads by")
            discard = gr.Slider(0, 0.9, value=0, step=0.1, label="rollout: drop the weakest links")
            read = gr.Button("Read", variant="primary", elem_id="digit-read")
    message = gr.Markdown(elem_id="digit-message")
    with gr.Row():
        flow = gr.Image(label="the 8x8 digit the model reads, and the rollout", interactive=False,
                        show_label=False)  # fmt: skip
        bars = gr.Image(label="class probabilities", interactive=False)
    words = gr.Markdown(elem_id="digit-words")

    def reading(canvas_, test_index_, use_test_, fusion_, discard_):
        canvas_ = canvas_ or {}
        shown = page.read_digit(canvas_.get("layers") or [], test_index_, use_test_, fusion_,
                                discard_, canvas_.get("composite"))  # fmt: skip
        return kept(shown, 3)

    inputs = [canvas, test_index, use_test, fusion, discard]
    read.click(reading, inputs, [flow, bars, words, message])
    test_index.release(lambda *v: reading(*v[:2], True, *v[3:]), inputs,
                       [flow, bars, words, message])  # fmt: skip


def build(run: str | None = None) -> gr.Blocks:
    page = Page(run)
    run_error = page.check_run()
    downloads = Path(tempfile.mkdtemp(prefix="vit-inpaint-explore-"))
    with gr.Blocks(title="vit-inpaint explorer") as demo:
        gr.Markdown(INTRO)
        if run_error:
            gr.Markdown(run_error, elem_id="run-message")
        with gr.Tab("Inside the ViT", elem_id="tab-inside"):
            sampled, render, sample_inputs, sample_outputs, settings, outputs, fitting = (
                inside_tab(page)
            )
        with gr.Tab("Fill your photo", elem_id="tab-photo"):
            opened, open_inputs, open_outputs = photo_tab(page, downloads)
        with gr.Tab("Digits", elem_id="tab-digits") as digits_page:
            digits_tab(page)
        # Gradio's sketchpad opens with no tool chosen: choose the brush when the tab opens
        digits_page.select(None, js=PICK_BRUSH)
        # The first view is there when the page opens: no click needed.
        demo.load(*fitting)
        demo.load(sampled, sample_inputs, sample_outputs).then(render, settings, outputs)
        demo.load(opened, open_inputs, open_outputs)
    return demo
