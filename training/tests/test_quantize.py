import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import onnx
from onnx import numpy_helper

import common  # noqa: F401  (puts training/ on the path)
import export
import quantize


class QuantizeWeightTest(unittest.TestCase):
    def test_per_column_symmetric(self):
        rng = np.random.default_rng(3)
        w = rng.normal(size=(64, 5)).astype(np.float32) * np.array([1, 10, 0.01, 1, 0], np.float32)
        for reduce_range, qmax in ((False, 127), (True, 63)):
            q, s = quantize.quantize_weight(w, reduce_range)
            self.assertEqual(q.dtype, np.int8)
            self.assertEqual(s.shape, (5,))
            self.assertLessEqual(int(np.abs(q).max()), qmax)
            # every non-zero column reaches the range's end, and rounds to within half a step
            self.assertEqual(list(np.abs(q[:, :4]).max(axis=0)), [qmax] * 4)
            self.assertTrue(np.all(np.abs(q * s - w) <= s / 2 + 1e-7))
            # an all-zero column stays zero with a usable scale
            self.assertEqual(int(np.abs(q[:, 4]).max()), 0)
            self.assertEqual(float(s[4]), 1.0)


class QuantizeBundleTest(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="mbundle-q-")
        self.addCleanup(shutil.rmtree, self.out)
        assert export.main(["--random", "--out", self.out, "--no-quantize"]) == 0

    def manifest(self):
        with open(os.path.join(self.out, "model.json")) as f:
            return json.load(f)

    def test_layers_become_integer(self):
        self.assertNotIn("cpu_file", self.manifest()["denoiser"])
        done = quantize.quantize_bundle(self.out, quantize.DEFAULT_NODES, reduce_range=True)
        den = self.manifest()["denoiser"]
        self.assertEqual(den["cpu_file"], quantize.CPU_FILE)
        self.assertEqual(den["cpu_quantization"]["matrices"], len(done))
        self.assertEqual(den["cpu_quantization"]["weight_range"], 63)
        src = onnx.load(os.path.join(self.out, den["file"]))
        got = onnx.load(os.path.join(self.out, den["cpu_file"]))
        onnx.checker.check_model(got, full_check=True)
        # the same interface, so the host feeds both alike
        self.assertEqual([i.name for i in got.graph.input], [i.name for i in src.graph.input])
        self.assertEqual([o.name for o in got.graph.output], [o.name for o in src.graph.output])
        init = {t.name: numpy_helper.to_array(t) for t in got.graph.initializer}
        src_init = {t.name: numpy_helper.to_array(t) for t in src.graph.initializer}
        layer_mm = [n for n in src.graph.node if n.op_type == "MatMul" and n.name.startswith("/stack/")
                    and n.input[1] in src_init]
        self.assertEqual(len(done), len(layer_mm))
        self.assertGreater(len(done), 0)
        ops = [n.op_type for n in got.graph.node]
        self.assertEqual(ops.count("MatMulInteger"), len(done))
        # no layer MatMul left in float; the input and output projections are
        for n in got.graph.node:
            if n.op_type == "MatMul" and n.input[1] in init:
                self.assertFalse(n.name.startswith("/stack/"), n.name)
        # ... with their weights stored as float16 behind a Cast
        outp = next(n for n in got.graph.node if n.op_type == "MatMul" and n.name == "/outp/MatMul")
        casts = {n.output[0]: n.input[0] for n in got.graph.node if n.op_type == "Cast" and n.input[0] in init}
        half = init[casts[outp.input[1]]]
        self.assertEqual(half.dtype, np.float16)
        np.testing.assert_allclose(half.astype(np.float32), src_init[outp.input[1]], rtol=1e-3, atol=1e-4)
        self.assertLess(os.path.getsize(os.path.join(self.out, den["cpu_file"])),
                        0.7 * os.path.getsize(os.path.join(self.out, den["file"])))
        for name in done:
            q, s = init[name + "_int8"], init[name + "_int8_scale"]
            self.assertNotIn(name, init)  # the float copy is gone
            self.assertEqual(q.dtype, np.int8)
            self.assertLessEqual(int(np.abs(q).max()), 63)
            self.assertTrue(np.all(np.abs(q * s - src_init[name]) <= s / 2 + 1e-7), name)
        # one DynamicQuantizeLinear per activation, shared by its MatMuls
        dql = [n.input[0] for n in got.graph.node if n.op_type == "DynamicQuantizeLinear"]
        self.assertEqual(len(dql), len(set(dql)))

    def test_again_is_byte_identical(self):
        quantize.quantize_bundle(self.out, quantize.DEFAULT_NODES, reduce_range=True)
        with open(os.path.join(self.out, quantize.CPU_FILE), "rb") as f:
            first = f.read()
        quantize.quantize_bundle(self.out, quantize.DEFAULT_NODES, reduce_range=True)
        with open(os.path.join(self.out, quantize.CPU_FILE), "rb") as f:
            self.assertEqual(f.read(), first)

    def test_nothing_to_quantize_is_an_error_and_writes_nothing(self):
        before = self.manifest()
        with self.assertRaises(quantize.QuantizeError):
            quantize.quantize_bundle(self.out, r"^/no-such-node/", reduce_range=False)
        self.assertEqual(self.manifest(), before)
        self.assertFalse(os.path.exists(os.path.join(self.out, quantize.CPU_FILE)))
        self.assertEqual(quantize.main(["--bundle", self.out, "--nodes", "^/no-such-node/"]), 1)
        self.assertEqual(quantize.main(["--bundle", self.out, "--nodes", "(unclosed"]), 1)

    def test_export_writes_the_copy_and_no_quantize_removes_it(self):
        self.assertEqual(export.main(["--random", "--out", self.out]), 0)
        self.assertEqual(self.manifest()["denoiser"]["cpu_file"], quantize.CPU_FILE)
        self.assertEqual(self.manifest()["denoiser"]["cpu_quantization"]["weight_range"], 127)
        self.assertEqual(export.main(["--random", "--out", self.out, "--reduce-range"]), 0)
        self.assertEqual(self.manifest()["denoiser"]["cpu_quantization"]["weight_range"], 63)
        self.assertTrue(os.path.exists(os.path.join(self.out, quantize.CPU_FILE)))
        self.assertEqual(export.main(["--random", "--out", self.out, "--no-quantize"]), 0)
        self.assertNotIn("cpu_file", self.manifest()["denoiser"])
        self.assertFalse(os.path.exists(os.path.join(self.out, quantize.CPU_FILE)))


if __name__ == "__main__":
    unittest.main()
