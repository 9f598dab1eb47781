"""Write an int8 copy of a bundle's denoiser for the CPU.

The denoiser is compute-bound on a laptop CPU (≈ 1.2 GFLOP a call at B = 3,
T = 120, 24 text slots), and most of it is the transformer layers' weight
matrices. This rewrites each MatMul whose node name matches --nodes (default:
the layers) and whose right operand is a constant matrix into ONNX's integer
form,

    DynamicQuantizeLinear(x) -> MatMulInteger(xq, Wq, x_zp, 0) -> Cast -> Mul(x_scale * w_scale)

which ONNX Runtime's CPU provider fuses into one DynamicQuantizeMatMul kernel
(about 1.5× faster here; a scale per token, built from elementwise ops, cost
as much as it saved). W is quantized per output column, symmetric, to ±127.
x86 CPUs without VNNI multiply u8 × s8 with an instruction that sums pairs
in 16 bits, which saturates at 2 × 255 × 127: there the engine runs the float
graph instead (model.json records the range). --reduce-range writes ±63
(7 bits), exact everywhere, but it cost the bundled model a fifth of its
walking cadence (0.41 and 0.36 steps a second against 0.50 and 0.55). DynamicQuantizeLinear takes one scale for the whole tensor,
so the rows of one call share it: the host runs each sample (its guidance
branches) in a call of its own, so that more samples never change the
earlier ones. The attention products (no constant operand), the skip path
and every elementwise op stay float; the float MatMuls' weights (the input
and output projections) are stored as float16 and cast back when the
session loads (ONNX Runtime folds the Cast), so the copy adds a third, not
half, of the float graph's size to the bundle. Only the CPU runs this graph:
the bundle keeps denoiser.onnx for the CUDA provider, and model.json names
the copy as denoiser.cpu_file.

  /usr/bin/python3 training/quantize.py --bundle assets/models/cmu-small-v1
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Dict, List, Tuple

import numpy as np
import onnx
from onnx import helper, numpy_helper

CPU_FILE = "denoiser.int8.onnx"
# The transformer layers: 4/5 of the multiply-adds. The input patch and output
# projections stay float; int8 there reads the noisy input and writes the
# features with a coarser step, which showed as jitter.
DEFAULT_NODES = r"(^|/)stack/"
HALF_MIN_SIZE = 16384


class QuantizeError(RuntimeError):
    """The graph or bundle is not one this script can quantize."""


def quantize_weight(w: np.ndarray, reduce_range: bool) -> Tuple[np.ndarray, np.ndarray]:
    """Per-column symmetric int8: returns (Wq int8 [K,N], scale float32 [N])."""
    qmax = 63.0 if reduce_range else 127.0
    amax = np.abs(w).max(axis=0).astype(np.float64)
    scale = np.where(amax > 0, amax / qmax, 1.0)
    q = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int8)
    return q, scale.astype(np.float32)


def quantize_model(model: onnx.ModelProto, nodes: str, reduce_range: bool) -> Tuple[onnx.ModelProto, List[str]]:
    """Quantizes the MatMuls whose node name matches the regular expression
    nodes and whose right operand is a constant float matrix. Returns the
    rewritten model and the names of the weights quantized."""
    pick = re.compile(nodes)
    g = model.graph
    inits: Dict[str, onnx.TensorProto] = {t.name: t for t in g.initializer}
    out, new_inits, done = [], [], []
    dql: Dict[str, Tuple[str, str, str]] = {}  # activation -> its quantized triple, shared by its MatMuls
    for n in g.node:
        w = inits.get(n.input[1]) if n.op_type == "MatMul" and len(n.input) == 2 else None
        arr = numpy_helper.to_array(w) if w is not None else None
        if arr is None or arr.ndim != 2 or arr.dtype != np.float32 or not pick.search(n.name):
            out.append(n)
            continue
        x, y, tag = n.input[0], n.output[0], n.name or n.output[0]
        if x not in dql:
            dql[x] = (x + "_q", x + "_scale", x + "_zp")
            out.append(helper.make_node("DynamicQuantizeLinear", [x], list(dql[x]), name=tag + "_dql"))
        xq, xs, xzp = dql[x]
        wq, ws = quantize_weight(arr, reduce_range)
        base = w.name + "_int8"
        new_inits += [numpy_helper.from_array(wq, base),
                      numpy_helper.from_array(ws, base + "_scale"),
                      numpy_helper.from_array(np.zeros(wq.shape[1], np.int8), base + "_zp")]
        out += [
            helper.make_node("MatMulInteger", [xq, base, xzp, base + "_zp"], [y + "_i32"], name=tag + "_mmi"),
            helper.make_node("Cast", [y + "_i32"], [y + "_f32"], to=onnx.TensorProto.FLOAT, name=tag + "_cast"),
            helper.make_node("Mul", [xs, base + "_scale"], [y + "_s"], name=tag + "_scale"),
            helper.make_node("Mul", [y + "_f32", y + "_s"], [y], name=tag + "_rescale"),
        ]
        done.append(w.name)
    if not done:
        raise QuantizeError(f"no MatMul named like {nodes!r} with a constant float matrix")
    read = {i for n in out for i in n.input}  # the float weights quantized are read no more
    keep, casts = _half_weights([t for t in g.initializer if t.name in read], out)
    del g.node[:]
    g.node.extend(casts + out)
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    return model, done


def _half_weights(inits: List[onnx.TensorProto], nodes: List[onnx.NodeProto],
                  min_size: int = HALF_MIN_SIZE) -> Tuple[List[onnx.TensorProto], List[onnx.NodeProto]]:
    """Stores every float matrix of ≥ min_size entries that only MatMuls read
    (as their weights) as float16, behind a Cast back to float32 that keeps
    the matrix's name, so its readers stay as they are."""
    readers: Dict[str, List[Tuple[onnx.NodeProto, int]]] = {}
    for n in nodes:
        for i, name in enumerate(n.input):
            readers.setdefault(name, []).append((n, i))
    out, casts = [], []
    for t in inits:
        uses = readers.get(t.name, [])
        if (t.data_type != onnx.TensorProto.FLOAT or len(t.dims) != 2 or int(np.prod(t.dims)) < min_size
                or not uses or any(n.op_type != "MatMul" or i != 1 for n, i in uses)):
            out.append(t)
            continue
        half = t.name + "_f16"
        out.append(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), half))
        casts.append(helper.make_node("Cast", [half], [t.name], to=onnx.TensorProto.FLOAT, name=t.name + "_cast"))
    return out, casts


def quantize_bundle(bundle: str, nodes: str, reduce_range: bool) -> List[str]:
    """Writes bundle/denoiser.int8.onnx from the bundle's denoiser and names it
    in model.json (both atomically); returns the quantized weights' names."""
    mj = os.path.join(bundle, "model.json")
    with open(mj) as f:
        man = json.load(f)
    src = os.path.join(bundle, man["denoiser"]["file"])
    model, done = quantize_model(onnx.load(src), nodes, reduce_range)
    onnx.checker.check_model(model, full_check=True)
    out = os.path.join(bundle, CPU_FILE)
    onnx.save(model, out + ".tmp")
    os.replace(out + ".tmp", out)
    man["denoiser"]["cpu_file"] = CPU_FILE
    man["denoiser"]["cpu_quantization"] = {
        "method": "dynamic int8: uint8 activations with one scale per call, int8 weights with a scale per output column",
        "weight_range": 63 if reduce_range else 127,
        "nodes": nodes,
        "matrices": len(done),
    }
    with open(mj + ".tmp", "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    os.replace(mj + ".tmp", mj)
    return done


def main(argv: List[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True, help="bundle directory (model.json + denoiser.onnx)")
    ap.add_argument("--nodes", default=DEFAULT_NODES,
                    help="quantize the MatMuls whose node name matches this regular expression (default: the transformer layers)")
    ap.add_argument("--reduce-range", action="store_true",
                    help="7-bit weights (±63): exact on x86 CPUs without VNNI too, less precise")
    a = ap.parse_args(argv)
    try:
        done = quantize_bundle(a.bundle, a.nodes, a.reduce_range)
    except (QuantizeError, OSError, KeyError, json.JSONDecodeError, re.error) as e:
        print(f"quantize: {e}", file=sys.stderr)
        return 1
    print(f"quantize: {len(done)} matrices to int8 in {os.path.join(a.bundle, CPU_FILE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
