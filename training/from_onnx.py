"""Recover a weights folder (train.py --weights-out format) from an exported bundle.

A bundle ships only ONNX graphs; the training run's weights stay on the machine
that trained them. This reads the graphs' initializers back into the PyTorch
modules, so a later session can fine-tune the shipped model (train.py --init)
without replaying the whole recipe:

  /usr/bin/python3 training/from_onnx.py --bundle assets/models/cmu-small-v1 --out training/runs/shipped/weights

How: the exporter turns parameters into initializers, some under their own
name, some transposed (Linear weights feeding MatMul) or sliced (constant
folding) under generated names. So a copy of the net with a distinct random
value in every parameter is exported the same way, each of its initializers is
traced to the parameter (and slice or transpose) it holds, and the bundle's
initializer in the same place of the same graph fills that part of the parameter. The recovered
net must then reproduce the bundle's reference.npz outputs, or nothing is written.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import sys
import tempfile
from typing import Dict, List, Tuple

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checkpoint  # noqa: E402
import export  # noqa: E402
from model import Config, Net  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


class RecoverError(RuntimeError):
    """The bundle's graphs do not fit any net this code builds."""


def _tagged(cfg: Config, seed: int = 0) -> Net:
    """The net with every parameter drawn afresh, so no two entries coincide."""
    net = Net(cfg).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.rand(p.shape, generator=g) + 0.5)
    return net


def _trace(params: Dict[str, np.ndarray], init: np.ndarray) -> Tuple[str, str, int]:
    """Which parameter an initializer holds: (name, how, row) with how one of
    "same", "T" (transposed 2-D) or "row" (one row of a 2-D parameter)."""
    for name, p in params.items():
        if p.shape == init.shape and np.array_equal(p, init):
            return name, "same", -1
        if p.ndim == 2 and p.T.shape == init.shape and np.array_equal(p.T, init):
            return name, "T", -1
        if p.ndim == 2 and init.shape == p.shape[1:]:
            for r in range(p.shape[0]):
                if np.array_equal(p[r], init):
                    return name, "row", r
    return "", "", -1


def _uses(path: str) -> Tuple[List[Tuple[str, Tuple[str, ...]]], Dict[str, np.ndarray]]:
    """The graph's nodes (op type, input names) in order, and its initializers."""
    g = onnx.load(path).graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    # The exporter merges initializers of equal values into one, each other use
    # reading it through an Identity node: follow those back to the initializer.
    alias = {n.output[0]: n.input[0] for n in g.node if n.op_type == "Identity" and n.input[0] in init}
    nodes = [(n.op_type, tuple(alias.get(i, i) for i in n.input)) for n in g.node if n.output[0] not in alias]
    return nodes, init


def recover_graph(module: torch.nn.Module, tagged: torch.nn.Module, tagged_path: str, bundle_path: str) -> None:
    """Fill module's parameters from the bundle graph, through the tagged export.

    The two graphs come from the same code, so their nodes match one for one;
    an initializer is found by where a node uses it, not by its name (the
    exporter merges initializers that hold equal values, as an untrained net's
    LayerNorms do)."""
    params = {k: v.detach().numpy() for k, v in tagged.named_parameters()}
    (ours, our_init), (theirs, their_init) = _uses(tagged_path), _uses(bundle_path)
    if [op for op, _ in ours] != [op for op, _ in theirs]:
        raise RecoverError(f"{bundle_path}: its graph is not the one this code exports")
    filled = {k: np.zeros(v.shape, bool) for k, v in params.items()}
    state = {k: v.detach().clone() for k, v in module.named_parameters()}
    for (_, ins), (_, their_ins) in zip(ours, theirs):
        for name, their_name in zip(ins, their_ins):
            if name not in our_init:
                continue
            arr = our_init[name]
            pname, how, row = _trace(params, arr)
            if not pname:
                continue  # a constant of the graph (positions, shapes), not a weight
            if their_name not in their_init or their_init[their_name].shape != arr.shape:
                raise RecoverError(f"{bundle_path}: no initializer of shape {arr.shape} where {pname} goes")
            val = torch.from_numpy(their_init[their_name].astype(np.float32))
            if how == "same":
                state[pname].copy_(val)
                filled[pname][...] = True
            elif how == "T":
                state[pname].copy_(val.T)
                filled[pname][...] = True
            else:
                state[pname][row].copy_(val)
                filled[pname][row] = True
    missing = [k for k, f in filled.items() if not f.all()]
    if missing:
        raise RecoverError(f"{bundle_path}: parameters not found in the graph: {missing}")
    with torch.no_grad():
        for k, p in module.named_parameters():
            p.copy_(state[k])


def _config(bundle: str, base: Config) -> Config:
    """The net's Config as the exporter wrote it into denoiser.onnx (bundles since
    1.10.0); for older bundles the variant of base whose export has the bundle's
    graph (text_pool, skip and seam are the variants their recipes used; the sizes
    are base's)."""
    path = os.path.join(bundle, "denoiser.onnx")
    props = {p.key: p.value for p in onnx.load(path, load_external_data=False).metadata_props}
    if export.CONFIG_KEY in props:
        try:
            return Config(**json.loads(props[export.CONFIG_KEY]))
        except (TypeError, ValueError) as e:
            raise RecoverError(f"{path}: {export.CONFIG_KEY}: {e}") from e
    want = [op for op, _ in _uses(path)[0]]
    for pool, skip, seam in itertools.product([False, True], repeat=3):
        cfg = dataclasses.replace(base, text_pool=pool, skip=skip, seam=seam)
        with tempfile.TemporaryDirectory() as tmp:
            export.export_graphs(_tagged(cfg), tmp)
            got = [op for op, _ in _uses(os.path.join(tmp, "denoiser.onnx"))[0]]
        if got == want:
            return cfg
    raise RecoverError(f"{bundle}: its denoiser fits none of the nets this code builds")


@torch.no_grad()
def check_reference(net: Net, bundle: str, tol: float = 1e-4) -> float:
    """Largest difference between the net and the bundle's reference outputs."""
    with np.load(os.path.join(bundle, "reference.npz")) as z:
        r = {k: torch.from_numpy(z[k]) for k in z.files}
    emb, mask = net.text(r["tokens"])
    x0 = net.denoiser(r["x"], r["timestep"], r["denoiser_text_embedding"], r["denoiser_text_mask"],
                      r["observed"], r["observed_mask"])
    err = max(float((emb - r["text_embedding"]).abs().max()), float((mask - r["text_mask"]).abs().max()),
              float((x0 - r["x0"]).abs().max()))
    if not err <= tol:
        raise RecoverError(f"{bundle}: the recovered net is {err:g} off the reference outputs (tolerance {tol:g})")
    return err


def recover(bundle: str, base: Config = None) -> Tuple[Net, dict]:
    """The bundle's net and its manifest; base gives the sizes (default: the
    shipped model's, for the bundle's vocabulary)."""
    with open(os.path.join(bundle, "model.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    vocab = Tokenizer.load(os.path.join(bundle, manifest["text"]["tokenizer"]["vocab"])).vocab
    cfg = _config(bundle, base or Config(len(vocab)))
    cfg.facing = manifest["features"].get("first_heading", "free")
    tagged, net = _tagged(cfg), Net(cfg).eval()
    with tempfile.TemporaryDirectory() as tmp:
        export.export_graphs(tagged, tmp)
        recover_graph(net.text, tagged.text, os.path.join(tmp, "text_encoder.onnx"),
                      os.path.join(bundle, "text_encoder.onnx"))
        recover_graph(net.denoiser, tagged.denoiser, os.path.join(tmp, "denoiser.onnx"),
                      os.path.join(bundle, "denoiser.onnx"))
    check_reference(net, bundle)
    return net, manifest


def recovered_state(bundle: str, base: Config = None) -> dict:
    """A weights folder's content (checkpoint.save_weights) for the bundle's net."""
    net, man = recover(bundle, base)
    norm = man["normalization"]
    vocab = Tokenizer.load(os.path.join(bundle, man["text"]["tokenizer"]["vocab"])).vocab
    return {"step": 0, "config": dataclasses.asdict(net.cfg), "ema": net.state_dict(), "vocab": vocab,
            "mean": np.asarray(norm["mean"], np.float32), "std": np.asarray(norm["std"], np.float32),
            "classes": man.get("vocabulary_classes", []),
            # frames_max as a training run's args hold it: export.py keeps the bundle's max_frames
            "args": {"recovered_from": bundle, "version": man["version"], "frames_max": man["max_frames"]}}


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bundle", required=True)
    p.add_argument("--out", required=True, help="weights folder to write")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    state = recovered_state(a.bundle)
    print(json.dumps({"out": checkpoint.save_weights(a.out, state), "version": state["args"]["version"],
                      "config": state["config"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
