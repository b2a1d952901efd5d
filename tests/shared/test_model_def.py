"""shared.model_def: one CNN or an ensemble averaged in one graph, and its training view."""

from __future__ import annotations

import numpy as np

from shared.model_def import build_model, members_of, training_view


def test_an_ensemble_averages_its_members_in_one_forward_pass() -> None:
    model = build_model({"members": 2, "classes": 11, "filters": [4, 4, 4, 4], "dense": 8})
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    subs = members_of(model)
    assert len(subs) == 2 and model.outputs[0].shape[-1] == 11
    mean = np.mean([m(x, training=False).numpy() for m in subs], axis=0)
    assert np.allclose(model(x, training=False).numpy(), mean, atol=1e-6)
    view = training_view(model)
    assert len(view.outputs) == 2
    assert {id(w) for w in view.weights} == {id(w) for w in model.weights}  # shared layers


def test_a_single_model_is_its_own_training_view() -> None:
    model = build_model({"filters": [4, 4, 4, 4], "dense": 8})
    assert training_view(model) is model and members_of(model) == [model]
    assert model.outputs[0].shape[-1] == 10
