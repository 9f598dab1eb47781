"""The bundled model's recipe: every step `make model` runs, in one place.

    /usr/bin/python3 training/recipe.py                      # this CPU: from bundle 1.13.1's weights
    bash training/gpu_train.sh                               # a lent GPU: --from scratch, see there
    /usr/bin/python3 training/recipe.py --dry-run            # print the commands

Steps, in order (the dataset, training/data, is the Go builder's: `make dataset`):
  base    the weights the stages start from: bundle 1.13.1 read back from its ONNX
          graphs (training/from_onnx.py; the files come from git, commit BASE_COMMIT),
          or --from scratch: SCRATCH, a whole run from random weights (GPU-sized)
  stages  STAGES, each a train.py fine-tune of the one before, with a fixed seed
  bank    the retrieval bank (go run ./training/cmd/bank)
  export  the bundle: ONNX graphs, the int8 copy, the bank, model.json, then its word
          maps (go run ./training/cmd/wordmap: words.tsv, and -bank: bank-words.tsv)
  keep    the bank again, each window tried through the exported bundle (cmd/bank
          -model: kept when samples started from it still pass its class's check;
          KEEP, stricter since 2.3.0), copied over the first one (since 2.2.0), and
          the bank's word map made again for it (since 2.3.2)

Every step is skipped when its output exists, and a train step resumes from its
checkpoint, so running the recipe again after an interruption goes on where it
stopped (ignored files such as checkpoints may not survive a session: then the
stage starts again from the stage before). Runs go to --runs (training/runs).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import subprocess
import sys
from typing import List, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = sys.executable
MODEL_ID = "cmu-small-v1"
VERSION = "2.3.2"

# Bundle 1.13.1 (30 stages of training on the 62 minutes of the first data set:
# training/README "History"): the weights this recipe fine-tunes on this CPU.
BASE_COMMIT = "c864d9e"
BASE_FILES = ("model.json", "vocab.txt", "text_encoder.onnx", "denoiser.onnx", "reference.npz")

# The flags every stage shares: the loss terms and paths of 1.13.1's net.
COMMON = ("--w-foot 0.05 --class-power 0.8 --pad-short --engine-masks --text-pool --skip --skip-lr-mult 10 "
          "--geo-gate --geo-fade-from 800 --seam --expert-rank 16 --expert-steps 600,750 --ema 0.995").split()


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    steps: int
    seed: int
    args: Sequence[str]


# From random weights (the GPU's first step): the net of 1.13.1, trained whole.
SCRATCH = Stage("scratch", 6000, 1, "--batch 128 --lr 5e-4 --warmup 500 --facing zero".split())

# The fine-tunes, in order: 8 h of CMU motion, every class weighed by minutes**-0.8,
# the new words appended to the vocabulary.
STAGES = (
    Stage("reach", 1100, 81, "--batch 96 --lr 2e-4 --warmup 100 --grow-vocab".split()),
)

EXPORT = "--output-smoothing 1.5".split()

# The trial a bank window must pass to stay (training/cmd/bank -model): 8 samples
# of seed 3, a seed make model-eval does not use, and 7 of them pass the class's
# check; a class none of whose windows survive keeps its best 2.
KEEP = "-survive-samples 8 -survive-share 0.875 -survive-seed 3 -min-entries 2".split()


def run_dir(runs: str, name: str) -> str:
    return os.path.join(runs, f"v2-{name}")


def base_commands(a: argparse.Namespace) -> List[List[str]]:
    """The commands that make the base weights (run_dir(base)/weights)."""
    out = os.path.join(run_dir(a.runs, "base"), "weights")
    if a.start == "scratch":
        return train_command(a, SCRATCH, init=None, out=out)
    bundle = run_dir(a.runs, "base-bundle")
    cmds = [["mkdir", "-p", bundle]]
    for f in BASE_FILES:
        cmds.append(["sh", "-c", f"git -C {shlex.quote(ROOT)} show {BASE_COMMIT}:assets/models/{MODEL_ID}/{f} "
                                 f"> {shlex.quote(os.path.join(bundle, f))}"])
    cmds.append([PYTHON, os.path.join(HERE, "from_onnx.py"), "--bundle", bundle, "--out", out])
    return cmds


def train_command(a: argparse.Namespace, st: Stage, init, out: str) -> List[List[str]]:
    run = os.path.dirname(out)
    cmd = [PYTHON, os.path.join(HERE, "train.py"), "--data", a.data, "--out", run, "--steps", str(st.steps),
           "--seed", str(st.seed), "--device", a.device, "--workers", str(a.workers), "--weights-out", out,
           *COMMON, *st.args]
    if init:
        cmd += ["--init", init]
    return [cmd]


def finish_commands(a: argparse.Namespace, weights: str) -> List[List[str]]:
    """The bank, the bundle and its word maps, then the bank the bundle keeps and its
    word map again (the words its captions hold changed)."""
    bank, kept = run_dir(a.runs, "bank"), run_dir(a.runs, "bank-kept")
    vocab = os.path.join(a.bundle, "vocab.txt")
    bank_words = ["go", "run", "./training/cmd/wordmap", "-bank", os.path.join(a.bundle, "bank.json"), "-vocab", vocab,
                  "-out", os.path.join(a.bundle, "bank-words.tsv")]
    return [
        ["go", "run", "./training/cmd/bank", "-data", a.data, "-mocap", a.mocap, "-out", bank],
        [PYTHON, os.path.join(HERE, "export.py"), "--checkpoint", weights, "--out", a.bundle, "--version", VERSION,
         *EXPORT, "--bank", bank, "--word-map"],
        ["go", "run", "./training/cmd/wordmap", "-vocab", vocab, "-out", os.path.join(a.bundle, "words.tsv")],
        bank_words,
        ["go", "run", "./training/cmd/bank", "-data", a.data, "-mocap", a.mocap, "-model", a.bundle, *KEEP, "-out", kept],
        ["cp", os.path.join(kept, "bank.npy"), os.path.join(kept, "bank.json"), a.bundle],
        bank_words,
    ]


def steps(a: argparse.Namespace) -> List[tuple]:
    """(name, output that marks it done, commands), in order."""
    base = os.path.join(run_dir(a.runs, "base"), "weights")
    out = [("base", os.path.join(base, "meta.json"), base_commands(a))]
    prev = base
    for st in STAGES:
        w = os.path.join(run_dir(a.runs, st.name), "weights")
        out.append((st.name, os.path.join(w, "meta.json"), train_command(a, st, prev, w)))
        prev = w
    out.append(("bundle", None, finish_commands(a, prev)))
    return out


def parse_args(argv: List[str] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.path.join(ROOT, "training", "data"))
    p.add_argument("--mocap", default=os.environ.get("MOTIONSTUDIO_MOCAP", ""),
                   help="the mocap folder the dataset was built from (for the bank)")
    p.add_argument("--runs", default=os.path.join(ROOT, "training", "runs"))
    p.add_argument("--bundle", default=os.path.join(ROOT, "assets", "models", MODEL_ID))
    p.add_argument("--from", dest="start", choices=["bundle", "scratch"], default="bundle",
                   help="the base: bundle 1.13.1's weights (this CPU) or random weights (a GPU)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--train-only", action="store_true",
                   help="stop after the last training stage (a GPU machine: the bank and export need Go and the mocap)")
    p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    return p.parse_args(argv)


def main(argv: List[str] = None) -> int:
    a = parse_args(argv)
    if not a.mocap and not a.dry_run and not a.train_only:
        raise SystemExit("recipe: --mocap (or MOTIONSTUDIO_MOCAP) names the mocap folder the bank is cut from")
    for name, done, cmds in steps(a):
        if a.train_only and name == "bundle":
            break
        if done and os.path.exists(done):
            print(f"recipe: {name}: done ({done})", flush=True)
            continue
        for cmd in cmds:
            print("recipe: " + " ".join(shlex.quote(c) for c in cmd), flush=True)
            if not a.dry_run:
                subprocess.run(cmd, cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
