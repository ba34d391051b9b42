"""The Train form's ImageNet-weights box follows core's rules: on where a library publishes
weights for the encoder (or a weights file is configured), greyed and off elsewhere."""
from core.config import TrainConfig


def _form(qtbot):
    from guiapp.widgets.train_form import TrainForm

    form = TrainForm()
    qtbot.addWidget(form)
    return form


def test_box_follows_architecture_and_encoder(qtbot):
    form = _form(qtbot)
    form.arch.setCurrentText("unet")
    form.encoder.setCurrentText("resnet18")
    assert form.pretrained.isEnabled()
    assert "Hugging Face cache" in form.pretrained.toolTip()
    assert "downloaded there once" in form.pretrained.toolTip()
    with qtbot.waitSignal(form.changed):
        form.pretrained.setChecked(True)
    assert form.build_config().pretrained is True

    form.encoder.setCurrentText("tu-efficientnet_b0")  # timm, published on the hub
    assert form.pretrained.isEnabled() and form.build_config().pretrained is True

    form.arch.setCurrentText("ddrnet23-slim")  # nobody publishes DDRNet weights
    assert not form.pretrained.isEnabled() and not form.pretrained.isChecked()
    assert form.build_config().pretrained is False

    form.arch.setCurrentText("deeplabv3-tv")  # torchvision backbones
    assert form.pretrained.isEnabled() and not form.pretrained.isChecked()


def test_set_config_shows_pretrained_and_weights_file(qtbot):
    form = _form(qtbot)
    form.set_config(TrainConfig(arch="segformer", encoder="resnet18", pretrained=True))
    assert form.pretrained.isEnabled() and form.pretrained.isChecked()
    assert form.build_config().pretrained is True

    # no published weights: the box cannot be on, the built config says so
    form.set_config(TrainConfig(arch="ddrnet23-slim", pretrained=True))
    assert not form.pretrained.isEnabled() and form.build_config().pretrained is False

    # ...unless the config names a weights file, which the box then stands for
    cfg = TrainConfig(arch="ddrnet23-slim", pretrained=True, weights_path="/tmp/ddrnet.pth")
    form.set_config(cfg)
    assert form.pretrained.isEnabled() and form.pretrained.isChecked()
    built = form.build_config()
    assert built.pretrained is True and built.weights_path == "/tmp/ddrnet.pth"
