import unittest

import numpy as np
import torch

import common  # noqa: F401
import fk
import layout


def rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def pose(root_rot: np.ndarray, smooth=(0.0, 0.0), hips=(0.0, 1.0, 0.0)) -> np.ndarray:
    """Raw features: every predicted joint's world rotation = root_rot."""
    f = np.zeros(layout.D)
    f[0], f[2] = smooth
    lp = layout.OFFSETS["local_joints_positions"][0]
    f[lp:lp + 3] = hips
    lo = layout.OFFSETS["global_rot_data"][0]
    for j in range(layout.J):
        f[lo + 6 * j:lo + 6 * j + 3] = root_rot[:, 0]
        f[lo + 6 * j + 3:lo + 6 * j + 6] = root_rot[:, 1]
    return f


class FKTest(unittest.TestCase):
    def setUp(self):
        self.skel = fk.load_skeleton()
        names, parents, offsets = self.skel
        self.rest = {}
        for j, n in enumerate(names):  # rest world positions with the root at the origin
            self.rest[n] = offsets[j] * 0 if parents[j] < 0 else self.rest[names[parents[j]]] + offsets[j]

    def test_identity_pose_is_rest_pose_at_root(self):
        w = fk.world_positions(pose(np.eye(3), smooth=(0.5, -2.0), hips=(0.1, 0.9, 0.0)), self.skel)
        for j, n in enumerate(layout.PREDICTED_JOINTS):
            np.testing.assert_allclose(w[j], self.rest[n] + [0.6, 0.9, -2.0], atol=1e-9, err_msg=n)

    def test_rotation_turns_the_whole_body(self):
        r = rot_y(np.pi / 2)
        w = fk.world_positions(pose(r), self.skel)
        for j, n in enumerate(layout.PREDICTED_JOINTS):
            np.testing.assert_allclose(w[j], r @ self.rest[n] + [0, 1, 0], atol=1e-9, err_msg=n)
        left = layout.PREDICTED_JOINTS.index("LeftHand")
        self.assertGreater(abs(w[left][2]), 0.5)  # an arm along X now points along Z

    def test_gram_schmidt_repairs_scaled_columns(self):
        r = rot_y(0.3)
        six = np.concatenate([r[:, 0] * 2.0, r[:, 1] * 0.5 + r[:, 0] * 0.1])
        np.testing.assert_allclose(fk.rot6d_to_matrix(six), r, atol=1e-9)

    def test_tensor_and_numpy_agree_and_gradients_flow(self):
        rng = np.random.default_rng(1)
        f = pose(rot_y(0.7), smooth=(0.3, -1.0), hips=(0.0, 0.95, 0.1)) + rng.normal(0, 0.05, layout.D)
        want = fk.world_positions(f, self.skel)
        x = torch.tensor(f, dtype=torch.float64, requires_grad=True)
        got = fk.world_positions(x, self.skel)
        np.testing.assert_allclose(got.detach().numpy(), want, atol=1e-12)
        np.testing.assert_allclose(fk.target_positions(x).detach().numpy(), fk.target_positions(f), atol=1e-12)
        got[layout.PREDICTED_JOINTS.index("LeftHand")].sum().backward()
        lo = layout.OFFSETS["global_rot_data"][0]
        chest = lo + 6 * layout.PREDICTED_JOINTS.index("Chest")
        self.assertGreater(float(x.grad[chest:chest + 6].abs().sum()), 0.0)  # the arm hangs off the chest
        feet = lo + 6 * layout.PREDICTED_JOINTS.index("LeftFoot")
        self.assertEqual(float(x.grad[feet:feet + 6].abs().sum()), 0.0)

    def test_target_positions_add_smooth_root(self):
        f = pose(np.eye(3), smooth=(1.0, 2.0), hips=(0.0, 0.8, 0.0))
        np.testing.assert_allclose(fk.target_positions(f)[0], [1.0, 0.8, 2.0])


if __name__ == "__main__":
    unittest.main()
