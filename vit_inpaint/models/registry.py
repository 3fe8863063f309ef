"""Every model (`model=NAME`) in one table: its settings (the schema of conf/model/<name>.yaml,
torch-free) and the network it builds for each role a task asks for ("inpainter", "classifier").
Code that differs by model looks its model up here instead of asking `if name == ...`; what a
built network can do (attention maps, transformer blocks) it says itself, as the class attributes
`has_attention_maps` and `has_blocks` (models/encoder.py).

Adding a model: its module in models/, its settings dataclass (models/settings.py or its own
module), conf/model/<name>.yaml, and one `register_model(Model(...))` line below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vit_inpaint.models.settings import MAESettings, ModelSettings

INPAINTER, CLASSIFIER = "inpainter", "classifier"  # the roles a task's network plays


@dataclass(frozen=True)
class Model:
    name: str  # model.name, conf/model/<name>.yaml
    settings: type  # its settings dataclass: the yaml's schema, and the checks of its fields
    # role -> "module:Class" of the network it builds for that role (Class(**settings), the
    # classifier also num_classes=); a role it has none for is a task it cannot train.
    networks: dict[str, str] = field(default_factory=dict)
    # Its encoder drops hidden patches: it needs masks that hide whole patches (model=mae).
    drops_hidden_patches: bool = False

    def network(self, role: str, *args, **settings):
        if role not in self.networks:
            raise ValueError(f"model={self.name} has no {role} (it has: {tuple(self.networks)})")
        # Imported here: vit_inpaint.config registers its schemas on import, which reads this
        # module's MODELS; imported at the top, `from vit_inpaint.fill.model import ...` as the
        # first import of a process found this module half-built.
        from vit_inpaint.config.lazy import resolve

        return resolve(self.networks[role])(*args, **settings)


MODELS: dict[str, Model] = {}


def register_model(model: Model) -> Model:
    """Makes `model=<model.name>` a choice (a test's toy model registers itself the same way)."""
    MODELS[model.name] = model
    return model


def get_model(name: str) -> Model:
    """The model `name`; a ValueError naming the choices for any other."""
    if name not in MODELS:
        raise ValueError(f"model.name must be one of {tuple(MODELS)}, got {name!r}")
    return MODELS[name]


def model_settings(name: str = "vit", **settings):
    """The checked settings of conf/model/<name>.yaml (checkpoints written before model.name
    existed have no name: they are all model=vit)."""
    return get_model(name).settings(name=name, **settings)


register_model(
    Model(
        "vit",
        ModelSettings,
        {
            INPAINTER: "vit_inpaint.models.vit:InpaintingViT",
            CLASSIFIER: "vit_inpaint.models.classifier:ViTClassifier",
        },
    )
)
# A pretraining network: its encoder loads into a model=vit classifier with init_from=.
register_model(
    Model(
        "mae",
        MAESettings,
        {INPAINTER: "vit_inpaint.models.mae:MaskedAutoencoderViT"},
        drops_hidden_patches=True,
    )
)
