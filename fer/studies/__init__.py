"""Studies on top of training: cross-validation, hyperparameter search, ensembles, model
comparisons and explanations of single faces."""
