"""Pack a built dataset small enough to carry to a remote GPU, and unpack it there.

  python3 training/pack.py pack training/data /tmp/dataset.xz
  python3 training/pack.py unpack /tmp/dataset.xz /tmp/data

features.npy (float32, ~120 MB for CMU) does not fit a 64 MB transfer, and
float32 motion compresses poorly. The pack keeps the smooth root (whose
absolute values reach metres, where half precision would lose millimetres)
in float32 and every other block in float16 — local positions, 6D rotations,
velocities and contacts, all small-valued, lose well under a millimetre —
then xz-compresses it: ~38 MB. A model trained on an unpacked dataset is not
bit-identical to one trained on the original; `make model` uses the original.
"""
from __future__ import annotations

import io
import json
import lzma
import os
import sys
from typing import List

import numpy as np

ROOT = 3  # smooth_root_pos: the first block


def pack(data_dir: str, out: str) -> None:
    feats = np.load(os.path.join(data_dir, "features.npy"))
    with open(os.path.join(data_dir, "clips.json"), encoding="utf-8") as f:
        meta = f.read()
    buf = io.BytesIO()
    np.savez(buf, root=feats[:, :ROOT].astype(np.float32), rest=feats[:, ROOT:].astype(np.float16),
             clips=np.frombuffer(meta.encode("utf-8"), np.uint8))
    tmp = out + ".tmp"
    with lzma.open(tmp, "wb", preset=6) as f:
        f.write(buf.getvalue())
    os.replace(tmp, out)


def unpack(packed: str, data_dir: str) -> None:
    with lzma.open(packed, "rb") as f:
        z = np.load(io.BytesIO(f.read()))
        root, rest, meta = z["root"], z["rest"], z["clips"].tobytes().decode("utf-8")
    json.loads(meta)  # fail here, not in the trainer, on a damaged pack
    os.makedirs(data_dir, exist_ok=True)
    np.save(os.path.join(data_dir, "features.npy"),
            np.concatenate([root, rest.astype(np.float32)], axis=1))
    with open(os.path.join(data_dir, "clips.json"), "w", encoding="utf-8") as f:
        f.write(meta)


def main(argv: List[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("pack", "unpack"):
        print(__doc__.strip().splitlines()[0], "\nusage: pack.py pack DATA_DIR OUT.xz | unpack IN.xz DATA_DIR",
              file=sys.stderr)
        return 2
    (pack if argv[0] == "pack" else unpack)(argv[1], argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
