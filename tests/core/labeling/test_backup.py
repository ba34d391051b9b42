from core.labeling import backup


def test_backup_once_and_restore(tmp_path):
    root = tmp_path / "ds"
    mask = root / "trainannot" / "a.png"
    mask.parent.mkdir(parents=True)
    mask.write_bytes(b"original")
    dest = backup.ensure_backup(root, mask)
    assert dest == root / ".roadseg-backup" / "trainannot" / "a.png"
    assert dest.read_bytes() == b"original"
    mask.write_bytes(b"edit 1")
    assert backup.ensure_backup(root, mask) is None  # written once only
    assert dest.read_bytes() == b"original"
    assert backup.edited_masks(root) == {root / "trainannot" / "a.png"}
    assert backup.restore_original(root, mask)
    assert mask.read_bytes() == b"original"
    assert not backup.has_backup(root, mask)
    assert not backup.restore_original(root, mask)


def test_missing_original_restores_to_absent(tmp_path):
    root = tmp_path / "ds"
    mask = root / "masks" / "new.png"
    assert backup.ensure_backup(root, mask).name == "new.png.absent"
    mask.parent.mkdir(parents=True)
    mask.write_bytes(b"x")
    assert backup.edited_masks(root) == {mask}
    assert backup.restore_original(root, mask) and not mask.exists()
