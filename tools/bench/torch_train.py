#!/usr/bin/python3
"""PyTorch side of `agilenn bench-train`: the same models and training steps, timed.

Usage: torch_train.py SPEC.json PHASE   (PHASE: ref | plain | xai | xai8)
SPEC holds the preset's configs as agilenn writes them (reference MobileNetV2 config, split
config), batch, threads, steps. Runs in channels_last (NHWC) float32, PyTorch's faster layout
here. Prints one JSON line: parameters, macs_per_image, median_ms, min_ms, peak_rss_mb.
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_divisible(v, d=8):
    nv = max(d, int(v + d / 2) // d * d)
    if nv < 0.9 * v:
        nv += d
    return nv


class InvertedResidual(nn.Module):
    def __init__(self, i, o, s, t):
        super().__init__()
        h = i * t
        layers = []
        if t != 1:
            layers += [nn.Conv2d(i, h, 1, bias=False), nn.BatchNorm2d(h, eps=1e-3), nn.ReLU6()]
        layers += [nn.Conv2d(h, h, 3, s, 1, groups=h, bias=False), nn.BatchNorm2d(h, eps=1e-3), nn.ReLU6(),
                   nn.Conv2d(h, o, 1, bias=False), nn.BatchNorm2d(o, eps=1e-3)]
        self.block = nn.Sequential(*layers)
        self.residual = s == 1 and i == o

    def forward(self, x):
        y = self.block(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    def __init__(self, c):
        super().__init__()
        ch = c["in_channels"]
        stem = []
        if c["stem"]:
            out = make_divisible(c["stem_channels"] * c["width"]) if c["scale_stem"] else c["stem_channels"]
            stem = [nn.Conv2d(ch, out, 3, c["stem_stride"], 1, bias=False), nn.BatchNorm2d(out, eps=1e-3), nn.ReLU6()]
            ch = out
        self.stem = nn.Sequential(*stem)
        body = []
        for t, cc, n, s in c["blocks"]:
            out = make_divisible(cc * c["width"])
            for k in range(n):
                body.append(InvertedResidual(ch, out, s if k == 0 else 1, t))
                ch = out
        last = make_divisible(c["last_channels"] * c["width"]) if c["width"] > 1 else c["last_channels"]
        body += [nn.Conv2d(ch, last, 1, bias=False), nn.BatchNorm2d(last, eps=1e-3), nn.ReLU6(),
                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(last, c["num_classes"])]
        self.body = nn.Sequential(*body)

    def forward(self, x):
        return self.body(self.stem(x))


def sep(i, o, s, mult=1):
    return [nn.Conv2d(i, i * mult, 3, s, 1, groups=i, bias=False), nn.Conv2d(i * mult, o, 1, bias=False)]


class Split(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.k, self.F, self.T = c["k"], c["features"], c["temperature"]
        h = c["extractor_hidden"]
        mult = c.get("extractor_depth_multiplier", 1)
        self.extractor = nn.Sequential(*sep(c["in_channels"], h, c["stride"], mult), nn.BatchNorm2d(h, eps=1e-3), nn.ReLU6(),
                                       *sep(h, c["features"], 1), nn.BatchNorm2d(c["features"], eps=1e-3), nn.ReLU6())
        head = c["local_head"]
        g = 0 if head == "gap" else int(head.split(":")[1])
        self.g = g
        self.head = nn.Sequential(nn.Linear(self.k * max(g, 1) ** 2, c["num_classes"]),
                                  nn.BatchNorm1d(c["num_classes"], eps=1e-3))
        p = (torch.arange(c["centroids"]) + 0.5) / c["centroids"]
        self.w = nn.Parameter(torch.log(p / (1 - p)))
        rc = dict(c["remote"])
        rc.update(stem=False, in_channels=c["features"] - self.k, num_classes=c["num_classes"])
        self.remote = MobileNetV2(rc)
        self.alpha_w = nn.Parameter(torch.zeros(1))

    def quant(self, x):
        c = 6 * torch.sigmoid(self.w)
        d = (x.unsqueeze(-1) - c) ** 2
        soft = (torch.softmax(-d, -1) * c).sum(-1)
        hard = c.detach()[d.argmin(-1)]
        return soft + (hard - soft).detach()

    def forward(self, x):
        f = self.extractor(x)
        loc = f[:, :self.k]
        pooled = F.adaptive_avg_pool2d(loc, self.g) if self.g else loc.mean((2, 3), keepdim=True)
        local = self.head(pooled.permute(0, 2, 3, 1).flatten(1))
        remote = self.remote(self.quant(f[:, self.k:]))
        a = torch.sigmoid(self.alpha_w / self.T)
        return f, a * local + (1 - a) * remote


def count_macs(model, x):
    macs = [0]

    def hook(m, i, o):
        if isinstance(m, nn.Conv2d):
            macs[0] += o.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            macs[0] += o.numel() * m.in_features
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(x)
    model.train()
    for h in hs:
        h.remove()
    return macs[0]


def main():
    spec = json.load(open(sys.argv[1]))
    phase = sys.argv[2]
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    B, H, W, C = spec["batch"], spec["height"], spec["width"], spec["channels"]
    cl = torch.channels_last
    x = torch.randn(B, C, H, W).to(memory_format=cl)
    y = torch.arange(B) % spec["split"]["num_classes"]
    ref = MobileNetV2(spec["reference"]).to(memory_format=cl)
    model = Split(spec["split"]).to(memory_format=cl)
    if phase == "ref":
        net, params = ref, sum(p.numel() for p in ref.parameters())
        macs = count_macs(ref, x[:1])
        opt = torch.optim.SGD(ref.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def step():
            loss = F.cross_entropy(ref(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    else:
        params = sum(p.numel() for p in model.parameters())
        macs = count_macs(model, x[:1])
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        ref.eval()
        for p in ref.parameters():
            p.requires_grad_(False)
        m = 8 if phase == "xai8" else 2
        k = model.k
        wts = [1.0 / (m - 1)] * m
        wts[0] *= 0.5
        wts[-1] *= 0.5
        with torch.enable_grad():  # g(0) once per class
            z = torch.zeros(spec["split"]["num_classes"], model.F, H // spec["split"]["stride"],
                            W // spec["split"]["stride"]).to(memory_format=cl).requires_grad_(True)
            g0 = torch.autograd.grad(F.cross_entropy(ref.body(z), torch.arange(z.shape[0]), reduction="sum"), z)[0]

        def step():
            f, logits = model(x)
            loss = F.cross_entropy(logits, y)
            if phase != "plain":
                pts = torch.cat([f * (j / (m - 1)) for j in range(1, m)])
                lg = ref.body(pts)
                g = torch.autograd.grad(F.cross_entropy(lg, y.repeat(m - 1), reduction="sum"), pts, create_graph=True)[0]
                G = wts[0] * g0[y]
                for j in range(1, m):
                    G = G + wts[j] * g[(j - 1) * B:j * B]
                imp = (f * G).abs()
                ch = imp.sum((2, 3))
                p = ch / (ch.sum(1, keepdim=True) + 1e-12)
                ls = F.relu(0.8 - p[:, :k].sum(1)).mean()
                ld = F.relu(p[:, k:].amax(1) - p[:, :k].amin(1)).mean()
                loss = 0.8 * loss + 0.2 * (ls + ld)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for _ in range(spec.get("warmup", 3)):
        step()
    ts = []
    for _ in range(spec["steps"]):
        t0 = time.perf_counter()
        step()
        ts.append((time.perf_counter() - t0) * 1000)
    ts.sort()
    print(json.dumps({"parameters": params, "macs_per_image": macs, "median_ms": ts[len(ts) // 2], "min_ms": ts[0],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
