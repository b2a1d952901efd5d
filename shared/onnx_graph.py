"""The served model as an ONNX graph, built from its Keras weights, for ONNX Runtime.

Why: a live frame is one image, and for one image TensorFlow's per-call and per-op overhead
outweighs the arithmetic; ONNX Runtime runs the same graph on about a third of the CPU
(`python bench/inference.py --compare-runtimes` prints both).

Only the architecture of `shared.model_def` is translated (3x3 valid convolutions, ReLU,
batch norm, 2x2 max pooling, one dense layer, softmax, an ensemble's average); anything else
raises `UnsupportedModel`, and the caller keeps TensorFlow. The graph takes the uint8 digits
(n, 28, 28) as the TensorFlow forward pass does and returns the same probabilities
(`tests/shared/test_onnx_graph.py` compares them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.model_def import PIXEL_SCALE, members_of

OPSET = 17


class UnsupportedModel(ValueError):
    """The model has a layer this translation does not know."""


class _Graph:
    """Nodes and weights collected while walking the layers."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.weights: list[Any] = []
        self._n = 0

    def name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}_{self._n}"

    def const(self, stem: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], stem: str, **attrs: Any) -> str:
        from onnx import helper

        out = self.name(stem)
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def _activation(g: _Graph, layer: Any, x: str) -> str:
    """The layer's own activation after it (ReLU, softmax or none)."""
    name = getattr(layer.activation, "__name__", "linear")
    if name == "relu":
        return g.op("Relu", [x], "relu")
    if name == "softmax":
        return g.op("Softmax", [x], "softmax", axis=-1)
    if name != "linear":
        raise UnsupportedModel(f"activation {name!r} of {layer.name}")
    return x


def _layer(g: _Graph, layer: Any, x: str, flat: bool) -> tuple[str, bool]:
    """One Keras layer on NCHW `x` (or on a flat (n, k) one after Flatten)."""
    kind = type(layer).__name__
    weights = [np.asarray(w, np.float32) for w in layer.get_weights()]
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise UnsupportedModel(f"{layer.name}: only channels_last")
    if kind == "Conv2D":
        if (layer.padding != "valid" or tuple(layer.strides) != (1, 1)
                or tuple(layer.dilation_rate) != (1, 1) or layer.groups != 1):
            raise UnsupportedModel(f"{layer.name}: only valid padding, stride 1, no dilation")
        kernel = g.const("w", weights[0].transpose(3, 2, 0, 1))  # (kh, kw, in, out) -> OIHW
        ins = [x, kernel] + ([g.const("b", weights[1])] if layer.use_bias else [])
        return _activation(g, layer, g.op("Conv", ins, "conv")), flat
    if kind == "BatchNormalization":
        if not (layer.center and layer.scale) or layer.axis not in (-1, 3, [-1], [3]):
            raise UnsupportedModel(f"{layer.name}: only a scaled, centred, channel batch norm")
        gamma, beta, mean, var = weights
        return g.op("BatchNormalization", [x, g.const("gamma", gamma), g.const("beta", beta),
                                           g.const("mean", mean), g.const("var", var)],
                    "bn", epsilon=float(layer.epsilon)), flat
    if kind == "MaxPooling2D":
        if layer.padding != "valid":
            raise UnsupportedModel(f"{layer.name}: only valid padding")
        size = list(layer.pool_size)
        return g.op("MaxPool", [x], "pool", kernel_shape=size,
                    strides=list(layer.strides)), flat
    if kind == "Dropout":
        return x, flat
    if kind == "Flatten":  # Keras flattens NHWC: go back to that order first
        nhwc = g.op("Transpose", [x], "nhwc", perm=[0, 2, 3, 1])
        return g.op("Flatten", [nhwc], "flat", axis=1), True
    if kind == "Dense" and flat:
        ins = [x, g.const("w", weights[0]), g.const("b", weights[1])]
        return _activation(g, layer, g.op("Gemm", ins, "dense")), flat
    raise UnsupportedModel(f"layer {layer.name} ({kind})")


def onnx_model(model: Any) -> Any:
    """The ONNX ModelProto of a `shared.model_def` model: uint8 (n, 28, 28) -> (n, classes)."""
    from onnx import TensorProto, checker, helper

    g = _Graph()
    scaled = g.op("Mul", [g.op("Cast", ["digits"], "float", to=TensorProto.FLOAT),
                          g.const("scale", np.array(PIXEL_SCALE, np.float32))], "scaled")
    x0 = g.op("Unsqueeze", [scaled, g.const("axis", np.array([1], np.int64))], "nchw")
    outputs = []
    for member in members_of(model):
        x, flat = x0, False
        for layer in member.layers:
            x, flat = _layer(g, layer, x, flat)
        outputs.append(x)
    probs = outputs[0] if len(outputs) == 1 else g.op("Mean", outputs, "ensemble")
    g.nodes.append(helper.make_node("Identity", [probs], ["probabilities"]))
    classes = int(model.outputs[0].shape[-1])
    graph = helper.make_graph(
        g.nodes, "digitflow",
        [helper.make_tensor_value_info("digits", TensorProto.UINT8, ["n", 28, 28])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", classes])],
        initializer=g.weights)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    checker.check_model(proto)
    return proto


def onnx_session(model: Any, threads: int = 0) -> Any:
    """An ONNX Runtime session of `model` (`threads` 0: one per core).

    Its threads do not spin while waiting for work: the runtime's default busy-waits after
    every call, which on two cores takes CPU from the web process and the other worker."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(onnx_model(model).SerializeToString(), options,
                                providers=["CPUExecutionProvider"])
