"""Training: FER-2013 data, augmentation, model builders, the training loop, evaluation and the
model directories it writes (reports, plots, artifacts)."""
