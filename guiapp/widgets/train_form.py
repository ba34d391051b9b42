"""The training configuration form: every choice a TrainConfig holds, as dropdowns and spin boxes.

Choices come from core's registries (models, losses, optimizers, schedules, presets, weighting
methods), so a new architecture or loss appears here without touching the GUI. Model options get
one widget each from the registry's option specs (guiapp.widgets.model_option_widgets), enabled
only where core (`core.config.option_problems`) says they can be used; options that do not apply
are set to the architecture's own defaults, so the config is always one `create_model` accepts.

The form keeps the last config given to `set_config` (e.g. a preset) as its base: values without
a widget (weight decay, warm-up, seed, name, ...) survive `build_config`; widgets win for the rest.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget)

from core.config import DATA_PATHS, TrainConfig, can_aim_crops, implied_class_weights, option_problems
from guiapp.widgets.model_option_widgets import (changed_signal, make_option_widget,
                                                 option_value, set_choices, show_value)


def __getattr__(name: str):
    """`MODEL_KEYS`: what decides GFLOPs and parameters (arch, encoder, every registered model
    option, size), read from the registry when asked."""
    if name == "MODEL_KEYS":
        import core.models  # noqa: F401  (registers every architecture and its options)
        from core.models.registry import option_specs

        return ("arch", "encoder", *option_specs(), "image_size")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def available_devices() -> list[str]:
    """auto and cpu always; cuda/mps only where torch sees them."""
    import torch

    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def _combo(items, tip: str) -> QComboBox:
    box = QComboBox()
    box.addItems([str(i) for i in items])
    box.setToolTip(tip)
    return box


def _registry_combo(specs: dict, tip: str, first: tuple[str, str] | None = None) -> QComboBox:
    """The names of a core registry (optimizers, schedules, losses, weightings), each with its
    help line as the item's tooltip; `first` is an extra (name, help) item put before them."""
    items = ([first] if first else []) + [(s.name, s.help) for s in specs.values()]
    box = _combo([name for name, _ in items], tip)
    for i, (_, help_text) in enumerate(items):
        box.setItemData(i, help_text, Qt.ItemDataRole.ToolTipRole)
    return box


class TrainForm(QWidget):
    """Builds a TrainConfig from the widgets. `changed` fires on any edit, `model_changed` when
    what decides GFLOPs/params (architecture, encoder, model options, input size) changes."""

    changed = Signal()
    model_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        from core.data.model_input import AUGMENT_PRESETS
        from core.data.stats import weighting_specs
        from core.losses import loss_specs
        import core.models  # noqa: F401  (registers every architecture and its options)
        from core.models.registry import list_models, model_info, option_specs
        from core.optim import optimizer_specs, schedule_specs

        self._model_info = model_info
        d = TrainConfig()
        archs = list_models()
        self.arch = _combo(archs, "Architecture (core.models.registry)")
        for i, a in enumerate(archs):
            self.arch.setItemData(i, model_info(a).description, Qt.ItemDataRole.ToolTipRole)
        self.encoder = _combo([], "Encoder / backbone of the architecture")
        # one widget per registered model option, reachable as self.<option name>
        self._specs = option_specs()
        self.options = {name: make_option_widget(spec) for name, spec in self._specs.items()}
        for name, w in self.options.items():
            if not hasattr(QWidget, name):  # never shadow a Qt method
                setattr(self, name, w)
        self.pretrained = QCheckBox("ImageNet encoder weights")
        self.pretrained.setToolTip(
            "Start the encoder from the ImageNet weights its library publishes (SMP, timm: "
            "Hugging Face hub; torchvision: torch hub). They are read from the Hugging Face cache "
            "(HF_HOME, ~/.cache/huggingface; torchvision ~/.cache/torch), downloaded there once "
            "when online; a config's weights file (weights_path) wins. Greyed out where no "
            "library publishes weights for the encoder (DDRNet, the baseline CNN)")

        self.loss = _registry_combo(loss_specs(), "Loss (wce = class-weighted cross-entropy, "
                                                  "needs a weighting)")
        self.class_weights = _registry_combo(weighting_specs(), "Class weights from the training "
                                             "split's pixel frequencies", first=("none", "unweighted"))
        self.optimizer = _registry_combo(optimizer_specs(), "Optimizer")
        self.schedule = _registry_combo(schedule_specs(), "Learning-rate schedule, stepped every batch")
        self.augment = _combo(AUGMENT_PRESETS, "Augmentation preset (preview it in the Dataset tab)")
        self.device = _combo(available_devices(), "auto = CUDA, then MPS, then CPU")
        self.data_path = _combo(DATA_PATHS, "Where the training data lives: auto keeps it decoded in memory "
                                            "when it fits in half the free RAM, else streams it from the "
                                            "files; memory refuses to start when it cannot fit")
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr.setToolTip("Peak learning rate")
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 256)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.time_budget = QDoubleSpinBox()
        self.time_budget.setDecimals(1)
        self.time_budget.setRange(0.0, 7 * 24 * 60)
        self.time_budget.setSingleStep(5.0)
        self.time_budget.setSuffix(" min")
        self.time_budget.setSpecialValueText("off")
        self.time_budget.setToolTip("Minutes of training + validation: the first epochs are timed "
                                    "and the run then takes as many epochs as fit (Epochs at "
                                    "most), with its learning-rate schedule planned over them; "
                                    "if later epochs slow down the plan is shortened")
        self.ema = QDoubleSpinBox()
        self.ema.setDecimals(4)
        self.ema.setRange(0.0, 0.9999)
        self.ema.setSingleStep(0.001)
        self.ema.setSpecialValueText("off")
        self.ema.setToolTip("Decay of a moving average of the weights (e.g. 0.999): the average is "
                            "what validation scores and best.pt keeps. It smooths the epoch-to-epoch "
                            "swings of rare classes; off = the trained weights themselves")
        self.height = QSpinBox()
        self.width = QSpinBox()
        for box in (self.height, self.width):
            box.setRange(16, 4096)
            box.setSingleStep(16)
        self.height.setToolTip("Training image height (images are resized/cropped to H x W)")
        self.width.setToolTip("Training image width")
        self.crop = QCheckBox("Train crops")
        self.crop.setToolTip("Train on random H×W crops of the resized, augmented images instead "
                             "of whole images: more steps in the same time, more varied batches. "
                             "The network is fully convolutional, so validation and prediction "
                             "still use whole images")
        self.crop_h = QSpinBox()
        self.crop_w = QSpinBox()
        for box in (self.crop_h, self.crop_w):
            box.setRange(16, 4096)
            box.setSingleStep(16)
            box.setToolTip("Crop size (height × width), at most the image size")
        self.crop_h.setValue(256)
        self.crop_w.setValue(256)
        self.rare_crop = QSpinBox()
        self.rare_crop.setRange(0, 100)
        self.rare_crop.setSingleStep(10)
        self.rare_crop.setSuffix(" %")
        self.rare_crop.setToolTip("Share of training crops centred on a pixel of a rare class (rarer "
                                  "than the median class in the training split, e.g. pole, sign, "
                                  "bicyclist): they are seen more often without reweighting the "
                                  "loss. Needs train crops or the strong augmentation")
        self.copy_paste = QSpinBox()
        self.copy_paste.setRange(0, 100)
        self.copy_paste.setSingleStep(10)
        self.copy_paste.setSuffix(" %")
        self.copy_paste.setToolTip("Share of training images that get the rare classes' pixels "
                                   "(pole, sign, fence, pedestrian, bicyclist on CamVid) of "
                                   "another training image pasted in at the same place, so thin "
                                   "objects are seen against new backgrounds")
        self.holdout = QLineEdit()
        self.holdout.setPlaceholderText("none, or e.g. 0006R0 (file-name prefix)")
        self.holdout.setClearButtonEnabled(True)
        self.holdout.setToolTip("Comma-separated file-name prefixes (CamVid names carry the video "
                                "sequence, e.g. 0006R0) moved from the train split into a "
                                "'holdout' split that is never trained on and is scored at the "
                                "end: does the recipe work on a street it has not seen? Empty: "
                                "train on every training image")

        model_box = QGroupBox("Model")
        mf = QFormLayout(model_box)
        mf.addRow("Architecture", self.arch)
        mf.addRow("Encoder", self.encoder)
        for kind in ("float", "choice", "bool"):  # value boxes first, then the checkboxes
            for name, spec in self._specs.items():
                if spec.kind == kind:
                    mf.addRow("" if kind == "bool" else (spec.label or name), self.options[name])
        mf.addRow("", self.pretrained)
        self.cost_label = QLabel("–")
        self.cost_label.setObjectName("metric")
        self.cost_label.setToolTip("Forward cost of one image at the chosen size (core.flops); "
                                   "a multiply-add counts as two operations")
        mf.addRow("Cost", self.cost_label)

        data_box = QGroupBox("Data")
        df = QFormLayout(data_box)
        size = QHBoxLayout()
        size.addWidget(self.height)
        size.addWidget(QLabel("×"))
        size.addWidget(self.width)
        df.addRow("Image size (H×W)", size)
        crop = QHBoxLayout()
        crop.addWidget(self.crop)
        crop.addWidget(self.crop_h, 1)
        crop.addWidget(QLabel("×"))
        crop.addWidget(self.crop_w, 1)
        df.addRow("Crop (H×W)", crop)
        df.addRow("Rare-class crops", self.rare_crop)
        df.addRow("Copy-paste rare", self.copy_paste)
        df.addRow("Hold out", self.holdout)
        df.addRow("Augmentation", self.augment)
        df.addRow("Class weighting", self.class_weights)
        df.addRow("Data in", self.data_path)

        opt_box = QGroupBox("Optimisation")
        of = QFormLayout(opt_box)
        of.addRow("Loss", self.loss)
        of.addRow("Optimizer", self.optimizer)
        of.addRow("Schedule", self.schedule)
        of.addRow("Learning rate", self.lr)
        of.addRow("Batch size", self.batch_size)
        of.addRow("Epochs", self.epochs)
        of.addRow("Time budget", self.time_budget)
        of.addRow("Weight average", self.ema)
        of.addRow("Device", self.device)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for box in (model_box, data_box, opt_box):
            lay.addWidget(box)

        self._base, self._shown = d, None
        self.set_config(d)
        self.arch.currentTextChanged.connect(self._on_arch)
        self.loss.currentTextChanged.connect(self._on_loss)
        self.encoder.currentTextChanged.connect(self._emit_model)
        for w in (self.height, self.width):
            w.valueChanged.connect(self._emit_model)
        for w in self.options.values():
            changed_signal(w).connect(self._update_requires)
            changed_signal(w).connect(self._emit_model)
        self.encoder.currentTextChanged.connect(self._update_pretrained)
        self.pretrained.toggled.connect(self.changed)
        for w in (self.class_weights, self.optimizer, self.schedule, self.augment, self.device, self.data_path):
            w.currentTextChanged.connect(self.changed)
        for w in (self.lr, self.batch_size, self.epochs, self.time_budget, self.ema, self.crop_h,
                  self.crop_w, self.rare_crop, self.copy_paste):
            w.valueChanged.connect(self.changed)
        self.augment.currentTextChanged.connect(self._update_rare_crop)
        self.crop.toggled.connect(self._on_crop)
        self.holdout.textChanged.connect(self.changed)

    # --- config <-> widgets -------------------------------------------------------------
    def set_config(self, cfg: TrainConfig) -> None:
        """Show `cfg` in the widgets (unknown values keep the current choice); `cfg` becomes the
        base `build_config` starts from, so its widget-less values are kept."""
        self._base = cfg
        if self.arch.findText(cfg.arch) >= 0:
            self.arch.setCurrentText(cfg.arch)
        self._fill_model_options()
        if cfg.encoder and self.encoder.findText(cfg.encoder) >= 0:
            self.encoder.setCurrentText(cfg.encoder)
        for name, w in self.options.items():
            show_value(w, cfg.model_options.get(name))
        self._update_requires()
        self._update_pretrained()
        self.pretrained.setChecked(cfg.pretrained and self.pretrained.isEnabled())
        for box, value in ((self.loss, cfg.loss), (self.optimizer, cfg.optimizer),
                           (self.schedule, cfg.schedule), (self.augment, cfg.augment),
                           (self.class_weights, cfg.class_weights), (self.device, cfg.device),
                           (self.data_path, cfg.data_path)):
            if box.findText(value) >= 0:
                box.setCurrentText(value)
        self.lr.setValue(cfg.lr)
        self.batch_size.setValue(cfg.batch_size)
        self.epochs.setValue(cfg.epochs)
        self.time_budget.setValue(cfg.time_budget)
        self.ema.setValue(cfg.ema)
        self.height.setValue(cfg.image_size[0])
        self.width.setValue(cfg.image_size[1])
        self.crop.setChecked(cfg.crop_size is not None)
        if cfg.crop_size is not None:
            self.crop_h.setValue(cfg.crop_size[0])
            self.crop_w.setValue(cfg.crop_size[1])
        self.rare_crop.setValue(round(cfg.rare_crop * 100))
        self.copy_paste.setValue(round(cfg.copy_paste * 100))
        self._on_crop(cfg.crop_size is not None, emit=False)
        self.holdout.setText(cfg.holdout)
        self._shown = None
        self._shown = self.build_config()  # what the widgets show right after loading

    def build_config(self, **overrides) -> TrainConfig:
        """The base config with what the widgets show; `overrides` set data/out/name etc."""
        info = self._model_info(self.arch.currentText())
        opts = info.defaults_for(self.encoder.currentText() or None)
        shown = {name: option_value(w) for name, w in self.options.items()}
        for name in set(opts) - set(option_problems(info.name, shown)):
            if shown.get(name) is not None:
                opts[name] = shown[name]  # usable here: what the widget shows
        crop = (self.crop_h.value(), self.crop_w.value()) if self.crop.isChecked() else None
        holdout = ",".join(p.strip() for p in self.holdout.text().split(",") if p.strip())
        rare_crop = self.rare_crop.value() / 100 if self._can_aim_crops() else 0.0
        cfg = self._base.replace(
            arch=info.name, encoder=self.encoder.currentText() or None,
            model_options={**self._base.model_options, **opts},
            loss=self.loss.currentText(), class_weights=self.class_weights.currentText(),
            optimizer=self.optimizer.currentText(), schedule=self.schedule.currentText(),
            lr=self.lr.value(), batch_size=self.batch_size.value(), epochs=self.epochs.value(),
            time_budget=round(self.time_budget.value(), 1),
            ema=round(self.ema.value(), 4),
            image_size=(self.height.value(), self.width.value()),
            crop_size=crop, rare_crop=rare_crop, copy_paste=self.copy_paste.value() / 100,
            holdout=holdout,
            pretrained=self.pretrained.isEnabled() and self.pretrained.isChecked(),
            augment=self.augment.currentText(), device=self.device.currentText(),
            data_path=self.data_path.currentText(),
            workers=0,  # DataLoader workers from a Qt process would need spawn; 0 is safest
        )
        if cfg.name and self._shown is not None and cfg != self._shown:
            cfg = cfg.replace(name="")  # edited away from the loaded preset: its name no longer fits
        return cfg.replace(**overrides) if overrides else cfg

    def model_key(self) -> tuple:
        """What decides GFLOPs/params: used to cache and debounce the cost computation."""
        c = self.build_config()
        return (c.arch, c.encoder, *(c.model_options[k] for k in self._specs), c.image_size)

    def set_cost_text(self, text: str) -> None:
        self.cost_label.setText(text)

    # --- reactions ------------------------------------------------------------------------
    def _fill_model_options(self) -> None:
        """Encoders and option widgets for the current architecture; greyed where n/a."""
        info = self._model_info(self.arch.currentText())
        self.encoder.blockSignals(True)
        self.encoder.clear()
        self.encoder.addItems(list(info.encoders))
        self.encoder.setCurrentText(info.default_encoder)
        self.encoder.blockSignals(False)
        self.encoder.setEnabled(len(info.encoders) > 1)
        defaults = info.defaults
        for name, w in self.options.items():
            applies = name in info.options
            choices = info.choices(name) if applies else (defaults[name],)
            if self._specs[name].kind == "choice":
                set_choices(w, choices, defaults[name])
            if not applies:
                show_value(w, defaults[name])  # n/a: shows (and builds) the arch's own value
        self._update_requires()
        self._update_pretrained()

    def _update_requires(self, *_):
        """Enable each option widget where core says it can be used; the reason as status tip
        (it does not apply to the architecture, or another option must be on)."""
        arch = self.arch.currentText()
        shown = {name: option_value(w) for name, w in self.options.items()}
        problems = option_problems(arch, shown)
        for name, w in self.options.items():
            several = self._specs[name].kind != "choice" or w.count() > 1
            w.setEnabled(name not in problems and several)
            w.setStatusTip(problems.get(name, ""))

    def _update_pretrained(self, *_):
        """ImageNet weights exist where a library publishes them for the encoder, or where the
        config names a weights file."""
        from core.models.weights import has_hub_weights

        ok = bool(self._base.weights_path) or has_hub_weights(self.arch.currentText(),
                                                               self.encoder.currentText())
        self.pretrained.setEnabled(ok)
        if not ok:
            self.pretrained.setChecked(False)

    def _on_crop(self, on: bool, emit: bool = True) -> None:
        self.crop_h.setEnabled(on)
        self.crop_w.setEnabled(on)
        self._update_rare_crop()
        if emit:
            self.changed.emit()

    def _can_aim_crops(self) -> bool:
        crop = (self.crop_h.value(), self.crop_w.value()) if self.crop.isChecked() else None
        return can_aim_crops(crop, self.augment.currentText())

    def _update_rare_crop(self, *_args) -> None:
        self.rare_crop.setEnabled(self._can_aim_crops())

    def _on_arch(self, _name: str) -> None:
        self._fill_model_options()
        self._emit_model()

    def _on_loss(self, name: str) -> None:
        # core's rule: a loss that needs weights gets median-frequency balancing
        self.class_weights.setCurrentText(implied_class_weights(name, self.class_weights.currentText()))
        self.changed.emit()

    def _emit_model(self, *_args) -> None:
        self.model_changed.emit()
        self.changed.emit()
