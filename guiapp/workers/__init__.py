"""QThread workers: long core calls run here and report back through Qt signals."""
