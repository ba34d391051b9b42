"""The training configuration form: every choice a TrainConfig holds, as dropdowns and spin boxes.

Choices come from core's registries (models, losses, optimizers, schedules, presets, weighting
methods), so a new architecture or loss appears here without touching the GUI. Model options are
enabled only where `model_info(arch).options` says they apply; options that do not apply are set
to the architecture's own defaults, so the config is always one `create_model` accepts.

The form keeps the last config given to `set_config` (e.g. a preset) as its base: values without
a widget (weight decay, warm-up, seed, name, ...) survive `build_config`; widgets win for the rest.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget)

from core.config import TrainConfig

# what decides GFLOPs and parameters: the registry's OPTIONS between arch/encoder and size, spelt
# out so that importing the form does not import torch (tests check the two agree)
MODEL_KEYS = ("arch", "encoder", "dropout", "output_stride", "skip", "norm", "detail", "refine",
              "strip", "image_size")


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


class TrainForm(QWidget):
    """Builds a TrainConfig from the widgets. `changed` fires on any edit, `model_changed` when
    what decides GFLOPs/params (architecture, encoder, model options, input size) changes."""

    changed = Signal()
    model_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        from core.data.augment import AUGMENT_PRESETS
        from core.data.stats import WEIGHT_METHODS
        from core.losses import LOSSES
        from core.models.registry import list_models, model_info
        from core.optim import OPTIMIZERS, SCHEDULES

        self._model_info = model_info
        d = TrainConfig()
        archs = list_models()
        self.arch = _combo(archs, "Architecture (core.models.registry)")
        for i, a in enumerate(archs):
            self.arch.setItemData(i, model_info(a).description, Qt.ItemDataRole.ToolTipRole)
        self.encoder = _combo([], "Encoder / backbone of the architecture")
        self.dropout = QDoubleSpinBox()
        self.dropout.setRange(0.0, 0.9)
        self.dropout.setSingleStep(0.05)
        self.dropout.setToolTip("Dropout before the classifier")
        self.output_stride = _combo([], "Dilation: output stride of the encoder (8/16 = dilated)")
        self.skip = QCheckBox("Skip connections")
        self.skip.setToolTip("Decoder also takes the encoder's higher-resolution features "
                             "(U-Net style; DDRNet: the stem's 1/4-resolution features)")
        self.norm = _combo([], "Normalization layers: batch, group or none")
        self.detail = QCheckBox("Boundary head (training only)")
        self.detail.setToolTip("A head on the 1/4-resolution features learns where the labels "
                               "change class (STDC's detail guidance), to sharpen thin things "
                               "such as poles; dropped at inference, so the cost stays the same")
        self.refine = QCheckBox("Deeper skip path")
        self.refine.setToolTip("Two more 3x3 layers at 1/4 resolution after the skip joins the "
                               "deep features (DeepLabV3+'s decoder depth), for thin things such "
                               "as poles; needs the skip connections")
        self.strip = QCheckBox("Strip pooling")
        self.strip.setToolTip("Each pixel of the 1/8 features is gated by the mean of its whole "
                              "row and whole column (SPNet), context for long thin things such "
                              "as lamp posts")

        self.loss = _combo(LOSSES, "Loss (wce = class-weighted cross-entropy, needs a weighting)")
        self.class_weights = _combo(("none",) + tuple(WEIGHT_METHODS),
                                    "Class weights from the training split's pixel frequencies")
        self.optimizer = _combo(OPTIMIZERS, "Optimizer")
        self.schedule = _combo(SCHEDULES, "Learning-rate schedule, stepped every batch")
        self.augment = _combo(AUGMENT_PRESETS, "Augmentation preset (preview it in the Dataset tab)")
        self.device = _combo(available_devices(), "auto = CUDA, then MPS, then CPU")
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
        mf.addRow("Dropout", self.dropout)
        mf.addRow("Output stride", self.output_stride)
        mf.addRow("Normalization", self.norm)
        mf.addRow("", self.skip)
        mf.addRow("", self.detail)
        mf.addRow("", self.refine)
        mf.addRow("", self.strip)
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
        model_widgets = (self.encoder, self.output_stride, self.norm)
        for w in model_widgets:
            w.currentTextChanged.connect(self._emit_model)
        for w in (self.dropout, self.height, self.width):
            w.valueChanged.connect(self._emit_model)
        self.skip.toggled.connect(self._update_refine)
        self.skip.toggled.connect(self._emit_model)
        self.refine.toggled.connect(self._emit_model)
        self.detail.toggled.connect(self._emit_model)
        self.strip.toggled.connect(self._emit_model)
        for w in (self.class_weights, self.optimizer, self.schedule, self.augment, self.device):
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
        self.dropout.setValue(cfg.dropout)
        if self.output_stride.findText(str(cfg.output_stride)) >= 0:
            self.output_stride.setCurrentText(str(cfg.output_stride))
        if self.norm.findText(cfg.norm) >= 0:
            self.norm.setCurrentText(cfg.norm)
        self.skip.setChecked(cfg.skip)
        self.detail.setChecked(cfg.detail)
        self.refine.setChecked(cfg.refine)
        self.strip.setChecked(cfg.strip)
        for box, value in ((self.loss, cfg.loss), (self.optimizer, cfg.optimizer),
                           (self.schedule, cfg.schedule), (self.augment, cfg.augment),
                           (self.class_weights, cfg.class_weights), (self.device, cfg.device)):
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
        opts = dict(info.defaults)
        if "dropout" in info.options:
            opts["dropout"] = round(self.dropout.value(), 4)
        if "output_stride" in info.options and self.output_stride.currentText():
            opts["output_stride"] = int(self.output_stride.currentText())
        if "skip" in info.options:
            opts["skip"] = self.skip.isChecked()
        if "norm" in info.options and self.norm.currentText():
            opts["norm"] = self.norm.currentText()
        if "detail" in info.options:
            opts["detail"] = self.detail.isChecked()
        if self.refine.isEnabled():
            opts["refine"] = self.refine.isChecked()
        if "strip" in info.options:
            opts["strip"] = self.strip.isChecked()
        crop = (self.crop_h.value(), self.crop_w.value()) if self.crop.isChecked() else None
        holdout = ",".join(p.strip() for p in self.holdout.text().split(",") if p.strip())
        rare_crop = self.rare_crop.value() / 100 if self._can_aim_crops() else 0.0
        cfg = self._base.replace(
            arch=info.name, encoder=self.encoder.currentText() or None,
            dropout=float(opts["dropout"]), output_stride=int(opts["output_stride"]),
            skip=bool(opts["skip"]), norm=str(opts["norm"]), detail=bool(opts["detail"]),
            refine=bool(opts["refine"]), strip=bool(opts["strip"]),
            loss=self.loss.currentText(), class_weights=self.class_weights.currentText(),
            optimizer=self.optimizer.currentText(), schedule=self.schedule.currentText(),
            lr=self.lr.value(), batch_size=self.batch_size.value(), epochs=self.epochs.value(),
            time_budget=round(self.time_budget.value(), 1),
            ema=round(self.ema.value(), 4),
            image_size=(self.height.value(), self.width.value()),
            crop_size=crop, rare_crop=rare_crop, copy_paste=self.copy_paste.value() / 100,
            holdout=holdout,
            augment=self.augment.currentText(), device=self.device.currentText(),
            workers=0,  # DataLoader workers from a Qt process would need spawn; 0 is safest
        )
        if cfg.name and self._shown is not None and cfg != self._shown:
            cfg = cfg.replace(name="")  # edited away from the loaded preset: its name no longer fits
        return cfg.replace(**overrides) if overrides else cfg

    def model_key(self) -> tuple:
        """What decides GFLOPs/params: used to cache and debounce the cost computation."""
        c = self.build_config()
        return tuple(getattr(c, k) for k in MODEL_KEYS)

    def set_cost_text(self, text: str) -> None:
        self.cost_label.setText(text)

    # --- reactions ------------------------------------------------------------------------
    def _fill_model_options(self) -> None:
        """Encoders and option widgets for the current architecture; greyed where n/a."""
        info = self._model_info(self.arch.currentText())
        for box, items, current in (
                (self.encoder, info.encoders, info.default_encoder),
                (self.output_stride, [str(s) for s in sorted(info.output_strides, reverse=True)],
                 str(info.defaults["output_stride"])),
                (self.norm, info.norms, info.defaults["norm"])):
            box.blockSignals(True)
            box.clear()
            box.addItems(list(items))
            box.setCurrentText(current)
            box.blockSignals(False)
        self.encoder.setEnabled(len(info.encoders) > 1)
        self.dropout.setEnabled("dropout" in info.options)
        self.output_stride.setEnabled("output_stride" in info.options
                                      and len(info.output_strides) > 1)
        self.skip.setEnabled("skip" in info.options)
        self.detail.setEnabled("detail" in info.options)
        self.strip.setEnabled("strip" in info.options)
        self.norm.setEnabled("norm" in info.options and len(info.norms) > 1)
        if "skip" not in info.options:
            self.skip.setChecked(bool(info.defaults["skip"]))
        if "detail" not in info.options:
            self.detail.setChecked(bool(info.defaults["detail"]))
        if "strip" not in info.options:
            self.strip.setChecked(bool(info.defaults["strip"]))
        self._update_refine()
        if "dropout" not in info.options:
            self.dropout.setValue(float(info.defaults["dropout"]))
        na = "does not apply to " + info.name
        for w, key in ((self.dropout, "dropout"), (self.output_stride, "output_stride"),
                       (self.skip, "skip"), (self.norm, "norm"), (self.detail, "detail"),
                       (self.refine, "refine"), (self.strip, "strip")):
            w.setStatusTip("" if key in info.options else na)

    def _update_refine(self, *_):
        """The deeper skip path exists only where the architecture has it and skip is on."""
        self.refine.setEnabled("refine" in self._model_info(self.arch.currentText()).options
                               and self.skip.isChecked())

    def _on_crop(self, on: bool, emit: bool = True) -> None:
        self.crop_h.setEnabled(on)
        self.crop_w.setEnabled(on)
        self._update_rare_crop()
        if emit:
            self.changed.emit()

    def _can_aim_crops(self) -> bool:
        # Aiming crops needs a crop: train crops, or the strong preset's own.
        return self.crop.isChecked() or self.augment.currentText() == "strong"

    def _update_rare_crop(self, *_args) -> None:
        self.rare_crop.setEnabled(self._can_aim_crops())

    def _on_arch(self, _name: str) -> None:
        self._fill_model_options()
        self._emit_model()

    def _on_loss(self, name: str) -> None:
        # Class-weighted CE is meaningless without weights: pick median-frequency balancing.
        if name == "wce" and self.class_weights.currentText() == "none":
            self.class_weights.setCurrentText("median")
        self.changed.emit()

    def _emit_model(self, *_args) -> None:
        self.model_changed.emit()
        self.changed.emit()
