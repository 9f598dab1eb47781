import dataclasses
import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import onnx
import torch

import common
import checkpoint
import export
import from_onnx
import layout
import train
from model import Config, Net
from tokenizer import Tokenizer


class RandomBundleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="mbundle-")
        assert export.main(["--random", "--out", cls.out]) == 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out)

    def test_weights_recovered_from_the_graphs(self):
        want = export.random_net(len(Tokenizer.load(os.path.join(self.out, "vocab.txt"))), 1)
        net, man = from_onnx.recover(self.out, want.cfg)
        self.assertEqual(man["id"], "random-tiny-v1")
        got = net.state_dict()
        for k, v in want.state_dict().items():
            np.testing.assert_array_equal(got[k].numpy(), v.numpy(), err_msg=k)
        # a bundle whose graphs hold other weights than its reference outputs is refused
        bad = tempfile.mkdtemp(prefix="mbundle-bad-")
        self.addCleanup(shutil.rmtree, bad)
        for f in os.listdir(self.out):
            shutil.copy(os.path.join(self.out, f), bad)
        with np.load(os.path.join(bad, "reference.npz")) as z:
            ref = dict(z)
        ref["x0"] = ref["x0"] + 0.01
        np.savez(os.path.join(bad, "reference.npz"), **ref)
        with self.assertRaises(from_onnx.RecoverError):
            from_onnx.recover(bad, want.cfg)

    def test_expert_config_travels_in_the_graph(self):
        vocab = Tokenizer.load(os.path.join(self.out, "vocab.txt")).vocab
        plain = export.random_net(len(vocab), 1)
        net = Net(dataclasses.replace(plain.cfg, expert_rank=2, expert_from=500, expert_full=650)).eval()
        net.load_state_dict(plain.state_dict(), strict=False)
        with torch.no_grad():
            for n, p in net.named_parameters():
                if ".up." in n:  # as if trained
                    torch.nn.init.normal_(p, std=0.5)
        out = tempfile.mkdtemp(prefix="mbundle-expert-")
        self.addCleanup(shutil.rmtree, out)
        export.write_bundle(net, vocab, np.zeros(layout.D, np.float32), np.ones(layout.D, np.float32), ["walk"],
                            out, "expert-v1", "1.0.0", 200, False, 0.0, export.quantize.DEFAULT_NODES, False)
        got, _ = from_onnx.recover(out)  # no sizes given: the graph's metadata has them
        self.assertEqual((got.cfg.expert_rank, got.cfg.expert_from, got.cfg.expert_full), (2, 500, 650))
        for k, v in net.state_dict().items():
            np.testing.assert_array_equal(got.state_dict()[k].numpy(), v.numpy(), err_msg=k)

    def test_recovered_weights_export_as_the_bundle(self):
        # a re-export of recovered weights keeps the bundle's max_frames (the
        # window length it was trained on), not the format's largest
        src, w, out = (tempfile.mkdtemp(prefix=p) for p in ("mbundle-src-", "mweights-", "mbundle-again-"))
        for d in (src, w, out):
            self.addCleanup(shutil.rmtree, d)
        for f in os.listdir(self.out):
            shutil.copy(os.path.join(self.out, f), src)
        with open(os.path.join(src, "model.json")) as f:
            m = json.load(f)
        m["max_frames"] = 200
        with open(os.path.join(src, "model.json"), "w") as f:
            json.dump(m, f)
        want = export.random_net(len(Tokenizer.load(os.path.join(src, "vocab.txt"))), 1)
        checkpoint.save_weights(os.path.join(w, "weights"), from_onnx.recovered_state(src, want.cfg))
        self.assertEqual(export.main(["--checkpoint", os.path.join(w, "weights"), "--out", out]), 0)
        with open(os.path.join(out, "model.json")) as f:
            self.assertEqual(json.load(f)["max_frames"], 200)

    def test_files_and_size(self):
        files = sorted(os.listdir(self.out))
        self.assertEqual(files, ["denoiser.int8.onnx", "denoiser.onnx", "model.json", "reference.npz",
                                 "text_encoder.onnx", "vocab.txt"])
        total = sum(os.path.getsize(os.path.join(self.out, f)) for f in files)
        self.assertLess(total, 3 << 19)  # 1.5 MiB

    def test_model_json(self):
        with open(os.path.join(self.out, "model.json")) as f:
            m = json.load(f)
        self.assertEqual(m["format"], "motionstudio-model/1")
        self.assertEqual(m["id"], "random-tiny-v1")
        self.assertEqual((m["fps"], m["max_frames"], m["frame_multiple"]), (30, 300, 4))
        self.assertEqual(m["predicted_joints"], layout.PREDICTED_JOINTS)
        self.assertEqual(m["features"]["dim"], 273)
        self.assertEqual(sum(b["size"] for b in m["features"]["blocks"]), 273)
        self.assertEqual([b["name"] for b in m["features"]["blocks"]],
                         ["smooth_root_pos", "global_root_heading", "local_joints_positions", "global_rot_data",
                          "velocities", "foot_contacts"])
        self.assertEqual(len(m["normalization"]["mean"]), 273)
        self.assertEqual(len(m["normalization"]["std"]), 273)
        self.assertEqual(m["normalization"]["eps"], 1e-5)
        self.assertEqual(m["diffusion"], {"train_steps": 1000, "schedule": "cosine", "prediction": "x0",
                                          "sampler": "ddim", "eta": 0, "respacing": "kimodo", "default_steps": 50})
        self.assertEqual(m["guidance"], {"default": "separated", "text_weight": 2.0, "constraint_weight": 2.0})
        tk = m["text"]["tokenizer"]
        self.assertEqual((tk["pad_id"], tk["unk_id"], tk["cls_id"], tk["max_tokens"]), (0, 1, 2, 24))
        self.assertEqual((m["text"]["encoder"], m["text"]["embedding_dim"], m["text"]["pooled"]),
                         ("text_encoder.onnx", 128, False))
        self.assertEqual(m["denoiser"]["inputs"], ["x", "timestep", "text_embedding", "text_mask", "observed",
                                                   "observed_mask"])
        self.assertEqual(m["constraints"], ["root2d", "fullbody", "end_effector", "prefix"])
        self.assertIn("mocap.cs.cmu.edu", m["data_credit"])

    def test_word_map(self):
        with open(os.path.join(self.out, "model.json")) as f:
            self.assertNotIn("word_map", json.load(f)["text"])  # the random bundle has none
        with tempfile.TemporaryDirectory() as d:
            self.assertNotIn("word_map", export.name_word_map({"text": {}}, d)["text"])
            self.assertEqual(export.name_word_map({"text": {}}, d, word_map=True)["text"], {"word_map": "words.tsv"})
            open(os.path.join(d, "words.tsv"), "w").close()  # a bundle that has one keeps it named
            self.assertEqual(export.name_word_map({"text": {}}, d)["text"], {"word_map": "words.tsv"})

    def test_retrieval(self):
        with tempfile.TemporaryDirectory() as d:
            bundle, bank = os.path.join(d, "b"), os.path.join(d, "bank")
            shutil.copytree(self.out, bundle)
            os.makedirs(bank)
            with self.assertRaises(export.ExportError):  # no bank files yet
                export.add_retrieval(bundle, bank, 400)
            for name, text in zip(export.BANK_FILES, ["rows", '{"entries": []}']):
                with open(os.path.join(bank, name), "w") as f:
                    f.write(text)
            with self.assertRaises(export.ExportError):  # the index states no frame rate
                export.add_retrieval(bundle, bank, 400)
            with open(os.path.join(bank, "bank.json"), "w") as f:
                f.write('{"fps": 30, "entries": []}')
            with self.assertRaises(export.ExportError):
                export.add_retrieval(bundle, bank, export.TRAIN_STEPS)
            with self.assertRaises(export.ExportError):
                export.add_retrieval(bundle, bank, 400, residual_sigma=31)
            export.add_retrieval(bundle, bank, 400)
            with open(os.path.join(bundle, "model.json")) as f:
                man = json.load(f)
            self.assertEqual(man["retrieval"], {"bank": "bank.npy", "index": "bank.json", "fps": 30,
                                                "start_step": 400, "min_share": export.RETRIEVAL_MIN_SHARE,
                                                "residual_sigma_frames": export.RETRIEVAL_RESIDUAL_SIGMA})
            with open(os.path.join(bundle, "bank.npy")) as f:
                self.assertEqual(f.read(), "rows")
            export.add_retrieval(bundle, bank, 400, word_map=True)
            with open(os.path.join(bundle, "model.json")) as f:
                self.assertEqual(json.load(f)["retrieval"]["word_map"], export.BANK_WORD_MAP)

    def test_graph_interface(self):
        export.check_graphs(self.out, 128)  # raises on a wrong name, dtype or axis
        m = onnx.load(os.path.join(self.out, "denoiser.onnx"))
        self.assertEqual(m.opset_import[0].version, 17)

    def test_check_graphs_rejects_wrong_width(self):
        with self.assertRaises(export.ExportError):
            export.check_graphs(self.out, 64)


class TrainedBundleTest(unittest.TestCase):
    def test_checkpoint_export_and_reference(self):
        data = common.synthetic_dataset(clips=6, frames=48)
        tmp = tempfile.mkdtemp(prefix="mexp-")
        run = os.path.join(tmp, "run")
        assert train.main(["--data", data, "--out", run, "--small", "--steps", "3", "--batch", "4",
                           "--frames-min", "16", "--frames-max", "32", "--threads", "1"]) == 0
        out = os.path.join(tmp, "bundle")
        assert export.main(["--checkpoint", os.path.join(run, train.CHECKPOINT), "--out", out]) == 0
        state = torch.load(os.path.join(run, train.CHECKPOINT))
        with open(os.path.join(out, "model.json")) as f:
            m = json.load(f)
        self.assertEqual(m["id"], "cmu-small-v1")
        np.testing.assert_allclose(m["normalization"]["mean"], state["mean"], rtol=1e-6)
        self.assertEqual(sorted(m["vocabulary_classes"]), ["jump", "run", "walk"])
        self.assertEqual(Tokenizer.load(os.path.join(out, "vocab.txt")).vocab, state["vocab"])
        # reference.npz holds what the EMA weights compute for its inputs
        net = Net(Config(**state["config"])).eval()
        net.load_state_dict(state["ema"])
        ref = np.load(os.path.join(out, "reference.npz"))
        with torch.no_grad():
            emb, mask = net.text(torch.from_numpy(ref["tokens"]))
            x0 = net.denoiser(*(torch.from_numpy(ref[k]) for k in
                                ["x", "timestep", "denoiser_text_embedding", "denoiser_text_mask",
                                 "observed", "observed_mask"]))
        np.testing.assert_allclose(emb.numpy(), ref["text_embedding"], atol=1e-5)
        np.testing.assert_array_equal(mask.numpy(), ref["text_mask"])
        np.testing.assert_allclose(x0.numpy(), ref["x0"], atol=1e-5)
        self.assertEqual(float(np.abs(ref["denoiser_text_mask"][1]).max()), 0.0)
        shutil.rmtree(tmp)
        shutil.rmtree(data)


if __name__ == "__main__":
    unittest.main()
