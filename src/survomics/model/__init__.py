"""Leakage-free modelling: splits, preprocessing, models, cross-validation, evaluation."""
