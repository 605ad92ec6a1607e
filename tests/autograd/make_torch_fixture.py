#!/usr/bin/python3
"""Writes tests/autograd/fixtures/composite.json: a PyTorch (float64) reference for
conv -> batch norm (eval) -> ReLU6 -> depthwise conv (stride 2) -> SiLU -> global average pool ->
dense -> cross-entropy: the loss, its gradients w.r.t. the input and every parameter, and the
gradient w.r.t. the parameters of an integrated-gradients-style loss
    L_ig = sum over channels {0, 1} of |0.5 * (g(x) + g(0)) * x|,   g(z) = dLoss/dz at z,
which needs second-order autograd. Tensors are written in our layouts (NHWC, HWIO, dense (in, out)).
Run with Debian's python3-torch: /usr/bin/python3 tests/autograd/make_torch_fixture.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
dt = torch.float64
N, H, W, C, C1, K = 2, 6, 6, 3, 4, 5

x = torch.randn(N, H, W, C, dtype=dt)                  # NHWC
w1 = torch.randn(3, 3, C, C1, dtype=dt) * 0.4          # HWIO
gamma = torch.rand(C1, dtype=dt) + 0.5
beta = torch.randn(C1, dtype=dt) * 0.1
rmean = torch.randn(C1, dtype=dt) * 0.1
rvar = torch.rand(C1, dtype=dt) + 0.5
wd = torch.randn(3, 3, 1, C1, dtype=dt) * 0.4          # depthwise HWIO (I = 1)
wfc = torch.randn(C1, K, dtype=dt) * 0.5
bfc = torch.randn(K, dtype=dt) * 0.1
labels = torch.tensor([1, 3])
eps = 1e-3
params = dict(w1=w1, gamma=gamma, beta=beta, wd=wd, wfc=wfc, bfc=bfc)
for p in params.values():
    p.requires_grad_(True)


def loss_fn(inp):
    h = inp.permute(0, 3, 1, 2)                                           # NCHW for torch
    h = F.conv2d(h, w1.permute(3, 2, 0, 1), padding=1)
    h = F.batch_norm(h, rmean, rvar, gamma, beta, training=False, eps=eps)
    h = torch.clamp(h, 0, 6)  # ReLU6
    h = F.conv2d(h, wd.permute(3, 2, 0, 1), stride=2, padding=1, groups=C1)
    h = F.silu(h)
    h = h.mean(dim=(2, 3))
    logits = h @ wfc + bfc
    return F.cross_entropy(logits, labels)


xi = x.clone().requires_grad_(True)
loss = loss_fn(xi)
grads = torch.autograd.grad(loss, [xi] + list(params.values()))

# IG-style loss: g(x) with create_graph, g(0) as a constant.
xg = x.clone().requires_grad_(True)
gx, = torch.autograd.grad(loss_fn(xg), xg, create_graph=True)
x0 = torch.zeros_like(x).requires_grad_(True)
g0, = torch.autograd.grad(loss_fn(x0), x0)
ig = (0.5 * (gx + g0.detach()) * x).abs()[..., 0:2].sum()
ig_grads = torch.autograd.grad(ig, list(params.values()))


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


out = {
    "about": "PyTorch %s float64 reference; see make_torch_fixture.py" % torch.__version__,
    "shapes": {"x": [N, H, W, C], "w1": [3, 3, C, C1], "wd": [3, 3, 1, C1], "wfc": [C1, K]},
    "eps": eps,
    "labels": labels.tolist(),
    "inputs": {"x": flat(x), "rmean": flat(rmean), "rvar": flat(rvar), **{k: flat(v) for k, v in params.items()}},
    "loss": float(loss),
    "grad": {"x": flat(grads[0]), **{k: flat(g) for k, g in zip(params, grads[1:])}},
    "ig_loss": float(ig),
    "ig_grad": {k: flat(g) for k, g in zip(params, ig_grads)},
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "composite.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path + ".tmp", "w") as f:
    json.dump(out, f, indent=1)
os.replace(path + ".tmp", path)
print("wrote", path, "loss", float(loss), "ig_loss", float(ig))
