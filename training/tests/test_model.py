import unittest

import torch

import common  # noqa: F401
import layout
from model import Config, Net, count_params, expert_params


def tiny() -> Net:
    torch.manual_seed(0)
    return Net(Config(20, layout.D, 16, 1, 2, 32, 32, 2, 2, 64)).eval()


def inputs(b=2, t=12, l=5, e=16, seed=1):
    g = torch.Generator().manual_seed(seed)
    return dict(x=torch.randn(b, t, layout.D, generator=g), timestep=torch.randint(0, 1000, (b,), generator=g),
                text_embedding=torch.randn(b, l, e, generator=g), text_mask=torch.ones(b, l),
                observed=torch.randn(b, t, layout.D, generator=g),
                observed_mask=(torch.rand(b, t, layout.D, generator=g) < 0.3).float())


class TextEncoderTest(unittest.TestCase):
    def test_shapes_mask_and_pad_invariance(self):
        net = tiny()
        short = torch.tensor([[2, 5, 6], [2, 7, 0]])
        long = torch.cat([short, torch.zeros(2, 9, dtype=torch.int64)], dim=1)
        with torch.no_grad():
            e1, m1 = net.text(short)
            e2, m2 = net.text(long)
        self.assertEqual(tuple(e1.shape), (2, 3, 16))
        self.assertEqual(m1.tolist(), [[1, 1, 1], [1, 1, 0]])
        self.assertTrue(torch.allclose(e1, e2[:, :3], atol=1e-5), "pads must not change real tokens")
        self.assertEqual(float(e2[:, 3:].abs().max()), 0.0, "pad embeddings are zero")
        self.assertEqual(float(e1[1, 2].abs().max()), 0.0)


class DenoiserTest(unittest.TestCase):
    def test_shape(self):
        net = tiny()
        with torch.no_grad():
            out = net.denoiser(**inputs(b=3, t=16))
        self.assertEqual(tuple(out.shape), (3, 16, layout.D))

    def test_all_zero_text_mask_is_finite_and_ignores_text(self):
        net = tiny()
        a = inputs()
        a["text_mask"] = torch.zeros_like(a["text_mask"])
        b = dict(a, text_embedding=torch.randn_like(a["text_embedding"]))
        with torch.no_grad():
            ya, yb = net.denoiser(**a), net.denoiser(**b)
        self.assertTrue(torch.isfinite(ya).all())
        self.assertTrue(torch.allclose(ya, yb, atol=1e-6))

    def test_text_padding_does_not_change_output(self):
        net = tiny()
        a = inputs(l=4)
        a["text_mask"][1, 2:] = 0
        b = dict(a, text_embedding=torch.cat([a["text_embedding"], torch.randn(2, 6, 16)], 1),
                 text_mask=torch.cat([a["text_mask"], torch.zeros(2, 6)], 1))
        with torch.no_grad():
            self.assertTrue(torch.allclose(net.denoiser(**a), net.denoiser(**b), atol=1e-5))

    def test_text_changes_output(self):
        net = tiny()
        a = inputs()
        b = dict(a, text_embedding=torch.randn_like(a["text_embedding"]))
        with torch.no_grad():
            self.assertGreater(float((net.denoiser(**a) - net.denoiser(**b)).abs().max()), 1e-4)

    def test_known_entries_replace_noisy_input(self):
        net = tiny()
        a = inputs()
        m = a["observed_mask"]
        b = dict(a, x=a["x"] * (1 - m) + 123.0 * m)  # change x only where values are known
        c = dict(a, observed=a["observed"] + (1 - m) * 50.0)  # change observed only where unknown
        with torch.no_grad():
            y = net.denoiser(**a)
            self.assertTrue(torch.allclose(y, net.denoiser(**b), atol=1e-5))
            self.assertTrue(torch.allclose(y, net.denoiser(**c), atol=1e-5))

    def test_known_entries_are_returned_exactly(self):
        net = tiny()
        a = inputs()
        m = a["observed_mask"].bool()
        with torch.no_grad():
            y = net.denoiser(**a)
        self.assertTrue(torch.equal(y[m], a["observed"][m]))
        self.assertGreater(float((y[~m] - a["x"][~m]).abs().mean()), 0.1)

    def test_batch_rows_independent(self):
        net = tiny()
        a = inputs(b=3)
        one = {k: v[1:2] for k, v in a.items()}
        with torch.no_grad():
            self.assertTrue(torch.allclose(net.denoiser(**a)[1:2], net.denoiser(**one), atol=1e-5))

    def test_padded_frames_reach_no_valid_frame(self):
        # frame_valid (training only) masks the motion tokens of padding after a short clip
        net = tiny()
        a = inputs(b=2, t=16)
        valid = torch.ones(2, 16)
        valid[0, 8:] = 0  # patch 2: tokens 4..7 of sample 0 are padding
        b = dict(a, x=a["x"].clone())
        b["x"][0, 8:] += 7.0
        with torch.no_grad():
            ya, yb = net.denoiser(**a, frame_valid=valid), net.denoiser(**b, frame_valid=valid)
            self.assertTrue(torch.allclose(ya[:, :8], yb[:, :8], atol=1e-5))
            self.assertTrue(torch.allclose(ya[1], yb[1], atol=1e-5))
            self.assertTrue(torch.allclose(net.denoiser(**a, frame_valid=torch.ones(2, 16)), net.denoiser(**a),
                                           atol=1e-6))
            # without the mask the padding would leak into the real frames
            self.assertGreater(float((net.denoiser(**a)[0, :8] - net.denoiser(**b)[0, :8]).abs().max()), 1e-4)

    def test_text_pool_starts_as_the_net_without_it_and_ignores_pads(self):
        torch.manual_seed(0)
        plain = Net(Config(20, layout.D, 16, 1, 2, 32, 32, 2, 2, 64)).eval()
        pooled = Net(Config(20, layout.D, 16, 1, 2, 32, 32, 2, 2, 64, text_pool=True)).eval()
        missing, unexpected = pooled.load_state_dict(plain.state_dict(), strict=False)
        self.assertEqual(sorted(missing), ["denoiser.text_pool.bias", "denoiser.text_pool.weight"])
        self.assertEqual(unexpected, [])
        a = inputs(l=4)
        a["text_mask"][1, 2:] = 0
        with torch.no_grad():
            self.assertTrue(torch.allclose(pooled.denoiser(**a), plain.denoiser(**a), atol=1e-6))
            torch.nn.init.normal_(pooled.denoiser.text_pool.weight, std=0.5)  # as if trained
            b = dict(a, text_embedding=torch.cat([a["text_embedding"], torch.randn(2, 6, 16)], 1),
                     text_mask=torch.cat([a["text_mask"], torch.zeros(2, 6)], 1))
            self.assertTrue(torch.allclose(pooled.denoiser(**a), pooled.denoiser(**b), atol=1e-5))
            self.assertGreater(float((pooled.denoiser(**a) - plain.denoiser(**a)).abs().max()), 1e-3)

    def zero_init_variant(self, flag, params, a):
        """A net with the path flag adds, its extra params (all missing from a net
        without it) zero-initialised so it computes what that net computes on a."""
        torch.manual_seed(0)
        plain = Net(Config(20, layout.D, 16, 1, 2, 32, 32, 2, 2, 64)).eval()
        net = Net(Config(20, layout.D, 16, 1, 2, 32, 32, 2, 2, 64, **{flag: True})).eval()
        missing, unexpected = net.load_state_dict(plain.state_dict(), strict=False)
        self.assertEqual(sorted(missing), params)
        self.assertEqual(unexpected, [])
        with torch.no_grad():
            base = plain.denoiser(**a)
            self.assertTrue(torch.allclose(net.denoiser(**a), base, atol=1e-6))
        return net, base

    def test_skip_starts_as_the_net_without_it_and_adds_a_gain_of_the_input(self):
        a = inputs()
        a["observed_mask"][0, :4] = 1
        skip, base = self.zero_init_variant("skip", ["denoiser.skip.0.bias", "denoiser.skip.0.weight",
                                                     "denoiser.skip.2.bias", "denoiser.skip.2.weight"], a)
        with torch.no_grad():
            torch.nn.init.zeros_(skip.denoiser.skip[2].weight)
            torch.nn.init.constant_(skip.denoiser.skip[2].bias, 0.5)  # as if trained: gain 0.5 at every t
            got = skip.denoiser(**a)
            free = a["observed_mask"] == 0
            self.assertTrue(torch.allclose(got[free], (base + 0.5 * a["x"])[free], atol=1e-5))
            self.assertTrue(torch.equal(got[~free], a["observed"][~free]))  # known entries stay exact

    def test_seam_starts_as_the_net_without_it_and_reads_the_neighbouring_tokens(self):
        a = inputs()
        seam, base = self.zero_init_variant("seam", ["denoiser.seam.0.bias", "denoiser.seam.0.weight",
                                                     "denoiser.seam.1.bias", "denoiser.seam.1.weight"], a)
        d = seam.denoiser
        h = []
        d.stack.register_forward_hook(lambda mod, inp, out: h.append(out))
        with torch.no_grad():
            for lin in d.seam:  # as if trained
                torch.nn.init.normal_(lin.weight, std=0.5)
                torch.nn.init.normal_(lin.bias, std=0.5)
            got = d(**a)
            tok = h[-1][:, -(a["x"].shape[1] // d.patch):]  # the motion tokens
            prev = torch.cat([tok[:, :1], tok[:, :-1]], 1)  # token k reads k-1 and k+1, the edges themselves
            nxt = torch.cat([tok[:, 1:], tok[:, -1:]], 1)
            want = base + (d.seam[0](prev) + d.seam[1](nxt)).reshape(base.shape)
            free = a["observed_mask"] == 0
            self.assertTrue(torch.allclose(got[free], want[free], atol=1e-4))
            self.assertTrue(torch.equal(got[~free], a["observed"][~free]))  # known entries stay exact

    def test_expert_starts_as_the_net_without_it_and_acts_only_at_high_noise(self):
        torch.manual_seed(0)
        plain = Net(Config(20, layout.D, 16, 1, 2, 32, 32, 2, 2, 64)).eval()
        net = Net(Config(20, layout.D, 16, 1, 2, 32, 32, 2, 2, 64, expert_rank=3, expert_from=600,
                         expert_full=750)).eval()
        missing, unexpected = net.load_state_dict(plain.state_dict(), strict=False)
        self.assertEqual(unexpected, [])
        self.assertEqual(len(missing), 2 * 2 * 4)  # 2 layers x 4 matrices x (down, up)
        self.assertEqual(set(missing), expert_params(net))  # what the plain net lacks is the expert
        a = inputs(b=4)
        a["timestep"] = torch.tensor([0, 599, 700, 999])
        with torch.no_grad():
            base = plain.denoiser(**a)
            self.assertTrue(torch.allclose(net.denoiser(**a), base, atol=1e-6))
            for n, p in net.named_parameters():  # as if trained
                if ".up." in n:
                    torch.nn.init.normal_(p, std=0.5)
            got = net.denoiser(**a)
        free = a["observed_mask"] == 0
        self.assertTrue(torch.equal(got[:2], base[:2]), "below expert_from the output is the base net's, exactly")
        for row in (2, 3):
            self.assertGreater(float((got[row] - base[row])[free[row]].abs().max()), 1e-3)
        self.assertTrue(torch.equal(got[~free], a["observed"][~free]))  # known entries stay exact

    def test_default_size(self):
        net = Net(Config(500))
        self.assertEqual(count_params(net.denoiser), 4_164_932)
        self.assertLess(count_params(net.text), 600_000)


if __name__ == "__main__":
    unittest.main()
