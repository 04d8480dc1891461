"""The sidebar: the active model's panel (facts, link, export, switch,
upload) and the Retrain section."""
