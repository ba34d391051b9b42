"""Label editing without Qt: mask operations, undo history, backups of originals, review order."""
