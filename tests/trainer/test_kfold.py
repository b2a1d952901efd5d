"""Pendigits k-fold: every fold's predictions pooled into one held-out figure."""

from __future__ import annotations

import numpy as np

from trainer.data.sets import LabelledSet
from trainer.evaluate import SetScore, confusion_matrix
from trainer.kfold import FoldScore, pooled


def test_kfold_pools_every_fold_into_one_figure() -> None:
    held, folds = [], []
    for writer, right in ((1, 9), (2, 7)):
        y = np.arange(10) % 10
        predicted = y.copy()
        predicted[right:] = (predicted[right:] + 1) % 10
        held.append(LabelledSet("fold", np.zeros((10, 28, 28), np.uint8), y, np.full(10, writer)))
        folds.append(FoldScore([writer], SetScore("fold", right / 10, 10,
                                                  confusion_matrix(y, predicted), predicted), 1))
    total, data = pooled(folds, held)
    assert total.n == 20 and total.accuracy == 16 / 20 and np.trace(total.confusion) == 16
    assert data.writers.tolist() == [1] * 10 + [2] * 10


def test_confusion_matrix_rows_are_true_labels_and_columns_predictions() -> None:
    cm = confusion_matrix(np.array([1, 1, 2]), np.array([1, 7, 2]))
    assert cm[1, 7] == 1 and cm[7, 1] == 0 and cm.sum() == 3
