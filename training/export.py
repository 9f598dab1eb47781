"""Export a checkpoint to a model bundle the Go host loads.

Bundle = model.json + text_encoder.onnx + denoiser.onnx + vocab.txt, the
denoiser's int8 copy for the CPU (denoiser.int8.onnx, quantize.py), plus
reference.npz: fixed inputs and the PyTorch outputs for them, so the Go side
can check that ONNX Runtime reproduces PyTorch (Python has no ONNX runtime
here, and onnx 1.12 has no reference evaluator).

  /usr/bin/python3 training/export.py --checkpoint training/runs/cmu-small-v1/checkpoint.pt --out assets/models/cmu-small-v1
  /usr/bin/python3 training/export.py --random --out testdata/models/random-tiny   # untrained, < 1 MB
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checkpoint  # noqa: E402
import layout  # noqa: E402
import quantize  # noqa: E402
from diffusion import TRAIN_STEPS  # noqa: E402
from model import Config, Net  # noqa: E402
from tokenizer import CLS_ID, MAX_TOKENS, PAD_ID, UNK_ID, Tokenizer, build_vocab  # noqa: E402

OPSET = 17
# metadata_props key of denoiser.onnx holding the net's Config as JSON
CONFIG_KEY = "motionstudio.config"
DENOISER_INPUTS = ["x", "timestep", "text_embedding", "text_mask", "observed", "observed_mask"]
HEADING_INPUTS = DENOISER_INPUTS[:4] + ["first_heading_angle"] + DENOISER_INPUTS[4:]
DATA_CREDIT = ("The data used in this project was obtained from mocap.cs.cmu.edu. "
               "The database was created with funding from NSF EIA-0196217.")
RANDOM_CAPTIONS = ["a person walks forward", "a person runs in a circle", "someone jumps up",
                   "a man waves his left hand", "a woman kicks with her right foot"]


class HeadingDenoiser(torch.nn.Module):
    """A denoiser that also takes first_heading_angle [B] (as Kimodo's does), for
    the host's plumbing tests only: the angle is added to the predicted smooth
    root x of every frame, so a test can read back what the host fed."""

    def __init__(self, den: torch.nn.Module) -> None:
        super().__init__()
        self.den = den
        e0 = torch.zeros(layout.D)
        e0[0] = 1.0
        self.register_buffer("e0", e0)

    def forward(self, x, timestep, text_embedding, text_mask, first_heading_angle, observed, observed_mask):
        out = self.den(x, timestep, text_embedding, text_mask, observed, observed_mask)
        return out + first_heading_angle[:, None, None] * self.e0


class ExportError(RuntimeError):
    """The exported graphs do not have the contract's interface."""


def _atomic_export(module: torch.nn.Module, args: tuple, path: str, inputs: List[str],
                   outputs: List[str], axes: Dict[str, Dict[int, str]]) -> None:
    tmp = path + ".tmp"
    torch.onnx.export(module, args, tmp, input_names=inputs, output_names=outputs,
                      dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    os.replace(tmp, path)


def pin_output_dims(path: str, dims: Dict[str, Sequence], metadata: Optional[Dict[str, str]] = None) -> None:
    """Write the static sizes the exporter's shape inference lost (e.g. E of
    text_embedding) into the graph outputs, so hosts can read them from the file,
    and metadata into the model's metadata_props."""
    m = onnx.load(path)
    if metadata:
        onnx.helper.set_model_props(m, {**{p.key: p.value for p in m.metadata_props}, **metadata})
    for v in m.graph.output:
        for d, want in zip(v.type.tensor_type.shape.dim, dims[v.name]):
            if isinstance(want, int):
                d.ClearField("dim_param")
                d.dim_value = want
            else:
                d.dim_param = want
    tmp = path + ".tmp"
    onnx.save(m, tmp)
    os.replace(tmp, path)


def export_graphs(net: Net, out: str, heading_input: bool = False) -> None:
    """Write text_encoder.onnx and denoiser.onnx with dynamic batch, frames and tokens
    (heading_input: the plumbing-test denoiser that takes first_heading_angle)."""
    net.eval()
    e = net.cfg.text_dim
    tokens = torch.tensor([[CLS_ID, 5, 6, PAD_ID], [CLS_ID, UNK_ID, PAD_ID, PAD_ID]], dtype=torch.int64)
    tokens = tokens.clamp(max=net.cfg.vocab_size - 1)
    _atomic_export(net.text, (tokens,), os.path.join(out, "text_encoder.onnx"), ["tokens"],
                   ["text_embedding", "text_mask"],
                   {"tokens": {0: "batch", 1: "tokens"}, "text_embedding": {0: "batch", 1: "tokens"},
                    "text_mask": {0: "batch", 1: "tokens"}})
    pin_output_dims(os.path.join(out, "text_encoder.onnx"),
                    {"text_embedding": ("batch", "tokens", e), "text_mask": ("batch", "tokens")})
    b, t, l = 2, 16, 4
    args = (torch.randn(b, t, layout.D), torch.tensor([3, 700]), torch.randn(b, l, e),
            torch.tensor([[1.0, 1, 0, 0], [0, 0, 0, 0]]), torch.randn(b, t, layout.D),
            (torch.rand(b, t, layout.D) < 0.2).float())
    frames = {0: "batch", 1: "frames"}
    axes = {"x": frames, "timestep": {0: "batch"}, "text_embedding": {0: "batch", 1: "tokens"},
            "text_mask": {0: "batch", 1: "tokens"}, "observed": frames, "observed_mask": frames, "x0": frames}
    den, inputs = net.denoiser, DENOISER_INPUTS
    if heading_input:
        den, inputs = HeadingDenoiser(net.denoiser).eval(), HEADING_INPUTS
        args = args[:4] + (torch.tensor([0.5, -1.0]),) + args[4:]
        axes["first_heading_angle"] = {0: "batch"}
    _atomic_export(den, args, os.path.join(out, "denoiser.onnx"), inputs, ["x0"], axes)
    # The net's configuration travels in the file (hosts ignore it): from_onnx.py
    # rebuilds the net from it, including what the graph alone does not say, like
    # the timesteps of the high-noise expert's gate.
    pin_output_dims(os.path.join(out, "denoiser.onnx"), {"x0": ("batch", "frames", layout.D)},
                    {CONFIG_KEY: json.dumps(dataclasses.asdict(net.cfg), sort_keys=True)})


def _io(graph_io) -> Dict[str, tuple]:
    """name -> (elem_type, dims as ints or symbolic names)."""
    out = {}
    for v in graph_io:
        tt = v.type.tensor_type
        out[v.name] = (tt.elem_type, tuple(d.dim_param or d.dim_value for d in tt.shape.dim))
    return out


def check_graphs(out: str, text_dim: int, heading_input: bool = False) -> None:
    """onnx.checker plus the contract's names, dtypes and dynamic axes."""
    f32, i64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
    heading = {"first_heading_angle": (f32, ("batch",))} if heading_input else {}
    want = {
        "text_encoder.onnx": ({"tokens": (i64, ("batch", "tokens"))},
                              {"text_embedding": (f32, ("batch", "tokens", text_dim)),
                               "text_mask": (f32, ("batch", "tokens"))}),
        "denoiser.onnx": ({"x": (f32, ("batch", "frames", layout.D)), "timestep": (i64, ("batch",)),
                           "text_embedding": (f32, ("batch", "tokens", text_dim)),
                           "text_mask": (f32, ("batch", "tokens")), **heading,
                           "observed": (f32, ("batch", "frames", layout.D)),
                           "observed_mask": (f32, ("batch", "frames", layout.D))},
                          {"x0": (f32, ("batch", "frames", layout.D))}),
    }
    for name, (ins, outs) in want.items():
        path = os.path.join(out, name)
        onnx.checker.check_model(path, full_check=True)
        m = onnx.load(path)
        if m.opset_import[0].version != OPSET:
            raise ExportError(f"{name}: opset {m.opset_import[0].version}, want {OPSET}")
        got_in, got_out = _io(m.graph.input), _io(m.graph.output)
        if got_in != ins or got_out != outs:
            raise ExportError(f"{name}: inputs {got_in} outputs {got_out}, want {ins} {outs}")


def model_json(model_id: str, cfg: Config, mean: np.ndarray, std: np.ndarray,
               classes: Sequence[str], version: str = "1.0.0", max_frames: int = layout.MAX_FRAMES,
               heading_input: bool = False, output_smoothing: float = 0.0) -> dict:
    """The bundle manifest (engine/model/bundle.go is the reference)."""
    features = layout.features_object()
    if cfg.facing == "zero":
        features["first_heading"] = "zero"
    if output_smoothing:
        features["output_smoothing_sigma_frames"] = output_smoothing
    return {
        "format": "motionstudio-model/1", "id": model_id, "version": version,
        "license": "Apache-2.0 (weights and code of Motion Studio); trained on CMU mocap, see data_credit",
        "data_credit": DATA_CREDIT,
        "fps": layout.FPS, "max_frames": max_frames, "frame_multiple": cfg.patch,
        "skeleton": "soma77", "predicted_joints": list(layout.PREDICTED_JOINTS), "unpredicted_fill": "rest",
        "features": features,
        "normalization": {"mean": [float(v) for v in mean], "std": [float(v) for v in std], "eps": 1e-5},
        "diffusion": {"train_steps": TRAIN_STEPS, "schedule": "cosine", "prediction": "x0", "sampler": "ddim",
                      "eta": 0, "respacing": "kimodo", "default_steps": 50},
        "guidance": {"default": "separated", "text_weight": 2.0, "constraint_weight": 2.0},
        "text": {"tokenizer": {"type": "word", "vocab": "vocab.txt", "max_tokens": MAX_TOKENS,
                               "lowercase": True, "pad_id": PAD_ID, "unk_id": UNK_ID, "cls_id": CLS_ID},
                 "encoder": "text_encoder.onnx", "embedding_dim": cfg.text_dim, "pooled": False},
        "denoiser": {"file": "denoiser.onnx", "inputs": list(HEADING_INPUTS if heading_input else DENOISER_INPUTS),
                     "output": "x0"},
        "constraints": ["root2d", "fullbody", "end_effector", "prefix"],
        "vocabulary_classes": list(classes),
    }


@torch.no_grad()
def write_reference(net: Net, tok: Tokenizer, out: str, seed: int = 7) -> None:
    """Fixed inputs and PyTorch outputs (B=2, T=8; row 1 has no text) for ONNX parity checks."""
    g = torch.Generator().manual_seed(seed)
    tokens = torch.tensor([tok.encode("a person walks forward")[:6], tok.encode("")[:6]], dtype=torch.int64)
    emb, tmask = net.text(tokens)
    emb[1], tmask[1] = 0.0, 0.0  # the CFG "no text" branch
    x = torch.randn(2, 8, layout.D, generator=g)
    observed = torch.randn(2, 8, layout.D, generator=g)
    mask = (torch.rand(2, 8, layout.D, generator=g) < 0.3).float()
    timestep = torch.tensor([999, 20], dtype=torch.int64)
    x0 = net.denoiser(x, timestep, emb, tmask, observed, mask)
    ref_emb, ref_mask = net.text(tokens)
    tmp = os.path.join(out, "reference.tmp.npz")
    np.savez(tmp, tokens=tokens.numpy(), text_embedding=ref_emb.numpy(), text_mask=ref_mask.numpy(),
             x=x.numpy(), timestep=timestep.numpy(), denoiser_text_embedding=emb.numpy(),
             denoiser_text_mask=tmask.numpy(), observed=observed.numpy(), observed_mask=mask.numpy(),
             x0=x0.numpy())
    os.replace(tmp, os.path.join(out, "reference.npz"))


WORD_MAP = "words.tsv"  # text.word_map: made from vocab.txt by go run ./training/cmd/wordmap


def name_word_map(manifest: dict, out: str, word_map: bool = False) -> dict:
    """Name the bundle's word map in the manifest when asked to (the
    Makefile writes it right after the export, from the new vocab.txt) or
    when the folder already has one."""
    if word_map or os.path.exists(os.path.join(out, WORD_MAP)):
        manifest["text"]["word_map"] = WORD_MAP
    return manifest


def write_bundle(net: Net, vocab: List[str], mean: np.ndarray, std: np.ndarray, classes: Sequence[str],
                 out: str, model_id: str, version: str = "1.0.0", max_frames: int = layout.MAX_FRAMES,
                 heading_input: bool = False, output_smoothing: float = 0.0,
                 quantize_nodes: str = quantize.DEFAULT_NODES, reduce_range: bool = False,
                 word_map: bool = False) -> None:
    """Everything the host needs, checked before returning; quantize_nodes
    None: no int8 CPU copy; word_map: name words.tsv in model.json (see
    name_word_map)."""
    os.makedirs(out, exist_ok=True)
    net.eval()
    tok = Tokenizer(vocab)
    tok.save(os.path.join(out, "vocab.txt"))
    export_graphs(net, out, heading_input)
    check_graphs(out, net.cfg.text_dim, heading_input)
    write_reference(net, tok, out)
    tmp = os.path.join(out, "model.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(name_word_map(model_json(model_id, net.cfg, mean, std, classes, version, max_frames,
                                           heading_input, output_smoothing), out, word_map), f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "model.json"))
    if quantize_nodes is not None:
        quantize.quantize_bundle(out, quantize_nodes, reduce_range)
    elif os.path.exists(os.path.join(out, quantize.CPU_FILE)):  # a copy of other weights must not stay behind
        os.remove(os.path.join(out, quantize.CPU_FILE))


RETRIEVAL_START_STEP = 400  # training step a retrieved clip is noised to (engine/model/bank.go)
RETRIEVAL_MIN_SHARE = 0.75  # candidates score at least this share of the best clip's
# σ (frames) of the smoothing of what a sample adds to its clip: at the features' 1.5
# the model's flat residual halved punches and swings; at 8 it keeps them (2.1.0).
RETRIEVAL_RESIDUAL_SIGMA = 8.0
BANK_FILES = ("bank.npy", "bank.json")
# retrieval.word_map: made from bank.json and vocab.txt by go run ./training/cmd/wordmap -bank
BANK_WORD_MAP = "bank-words.tsv"


def add_retrieval(out: str, bank: str, start_step: int, min_share: float = RETRIEVAL_MIN_SHARE,
                  residual_sigma: float = RETRIEVAL_RESIDUAL_SIGMA, word_map: bool = False) -> None:
    """Copy a retrieval bank into the bundle and name it in model.json, at the frame
    rate its index states; word_map: name the bank's word map too (the recipe writes
    it next; a bundle that has one keeps it named)."""
    if not 0 < start_step < TRAIN_STEPS:
        raise ExportError(f"start step {start_step} outside 1-{TRAIN_STEPS - 1}")
    if not 0 <= residual_sigma <= 30:
        raise ExportError(f"residual sigma {residual_sigma} outside 0-30 frames")
    for name in BANK_FILES:
        src = os.path.join(bank, name)
        if not os.path.exists(src):
            raise ExportError(f"{src}: no such file (go run ./training/cmd/bank makes it)")
        tmp = os.path.join(out, name + ".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, os.path.join(out, name))
    with open(os.path.join(bank, BANK_FILES[1]), encoding="utf-8") as f:
        fps = json.load(f).get("fps")
    if not isinstance(fps, (int, float)) or fps <= 0:
        raise ExportError(f"{bank}/{BANK_FILES[1]} states no frame rate (fps)")
    path = os.path.join(out, "model.json")
    with open(path, encoding="utf-8") as f:
        man = json.load(f)
    man["retrieval"] = {"bank": BANK_FILES[0], "index": BANK_FILES[1], "fps": fps, "start_step": start_step,
                        "min_share": min_share, "residual_sigma_frames": residual_sigma}
    if word_map or os.path.exists(os.path.join(out, BANK_WORD_MAP)):
        man["retrieval"]["word_map"] = BANK_WORD_MAP
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)


def random_net(vocab_size: int, seed: int) -> Net:
    """Untrained tiny net of the real interface (E=128 so the host sees the real text width)."""
    torch.manual_seed(seed)
    return Net(Config(vocab_size, layout.D, text_dim=128, text_layers=1, text_heads=4, text_ff=32,
                      d_model=32, layers=1, heads=2, ff=64))


def main(argv: List[str] = None) -> int:
    p = argparse.ArgumentParser(description="export a model bundle")
    p.add_argument("--checkpoint", default="training/runs/cmu-small-v1/checkpoint.pt",
                   help="checkpoint.pt or a weights folder (train.py --weights-out)")
    p.add_argument("--version", default="1.0.0", help="the bundle's version in model.json")
    p.add_argument("--out", required=True)
    p.add_argument("--id", default=None, help="model id (default cmu-small-v1, random-tiny-v1 with --random)")
    p.add_argument("--weights", choices=["ema", "net"], default="ema")
    p.add_argument("--random", action="store_true", help="untrained tiny bundle for plumbing tests")
    p.add_argument("--data", default=None, help="with --random: take vocab, stats, classes from this dataset")
    p.add_argument("--output-smoothing", type=float, default=0.0, metavar="SIGMA",
                   help="model.json features.output_smoothing_sigma_frames: the host low-passes the sampled "
                        "root height and rotations (frames; 0: none)")
    p.add_argument("--heading-input", action="store_true",
                   help="with --random: a denoiser that takes first_heading_angle and adds it to the predicted "
                        "root x (the host's tests)")
    p.add_argument("--no-quantize", action="store_true", help="no int8 copy of the denoiser for the CPU")
    p.add_argument("--reduce-range", action="store_true",
                   help="7-bit weights in the int8 copy (exact on x86 CPUs without VNNI too, less precise)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--word-map", action="store_true",
                   help=f"name {WORD_MAP} (text.word_map) and, with --bank, {BANK_WORD_MAP} (retrieval.word_map) in "
                        "model.json even before they are there: make model writes them next with go run "
                        "./training/cmd/wordmap (a bundle that has one keeps it named anyway)")
    p.add_argument("--bank", default=None,
                   help="a retrieval bank folder (bank.npy + bank.json, made by go run ./training/cmd/bank) "
                        "to ship in the bundle: model.json's retrieval section")
    p.add_argument("--start-step", type=int, default=RETRIEVAL_START_STEP,
                   help="the diffusion step a retrieved clip is noised to")
    p.add_argument("--residual-sigma", type=float, default=RETRIEVAL_RESIDUAL_SIGMA,
                   help="σ in frames of the smoothing of what a sample adds to its retrieved clip")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    if a.random:
        if a.data:
            from data import Dataset
            ds = Dataset(a.data)
            vocab, mean, std, classes = build_vocab(ds.captions()), ds.mean, ds.std, ds.classes()
        else:
            vocab = build_vocab(RANDOM_CAPTIONS)
            mean, std = np.zeros(layout.D, np.float32), np.ones(layout.D, np.float32)
            classes = ["walk", "run", "jump", "wave", "kick"]
        net = random_net(len(vocab), a.seed)
        model_id = a.id or "random-tiny-v1"
        max_frames = layout.MAX_FRAMES
    else:
        state = checkpoint.load(a.checkpoint, a.weights)
        net = Net(Config(**state["config"]))
        net.load_state_dict(state["weights"])
        vocab, mean, std, classes = state["vocab"], state["mean"], state["std"], state["classes"]
        model_id = a.id or "cmu-small-v1"
        # The longest window it was trained on: the host cuts longer takes into
        # windows of this length, stitched, rather than sample positions it never saw.
        max_frames = min(layout.MAX_FRAMES, int(state["args"].get("frames_max") or layout.MAX_FRAMES))
    if a.heading_input and not a.random:
        p.error("--heading-input makes a plumbing-test bundle: use it with --random")
    write_bundle(net, vocab, np.asarray(mean), np.asarray(std), classes, a.out, model_id, a.version, max_frames,
                 a.heading_input, a.output_smoothing, None if a.no_quantize else quantize.DEFAULT_NODES,
                 a.reduce_range, a.word_map)
    if a.bank:
        add_retrieval(a.out, a.bank, a.start_step, residual_sigma=a.residual_sigma, word_map=a.word_map)
    sizes = {f: os.path.getsize(os.path.join(a.out, f)) for f in sorted(os.listdir(a.out))}
    print(json.dumps({"out": a.out, "id": model_id, "bytes": sizes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
