#!/usr/bin/python3
"""Inputs and PyTorch float64 expected outputs for tests/suite_cli.c ('clce run' end to end).

Run from anywhere:  /usr/bin/python3 tests/cli_fixtures/make_fixtures.py
Inputs are float32 / integer .npy files (some in Fortran order, some 0-d); every expected_*.npy
is float64, computed by PyTorch in float64 from the float32 inputs.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(1234)


def save(name, a):
    np.save(os.path.join(HERE, name), a)


def d(a):
    return torch.tensor(np.array(a, order="C"), dtype=torch.float64)


def ce_case(prefix, x, t, ce_kwargs, go=None, prob=False, fn=F.cross_entropy):
    xd = d(x).requires_grad_(True)
    tt = d(t) if prob else torch.tensor(np.array(t, dtype=np.int64, order="C"))
    loss = fn(xd, tt, **ce_kwargs)
    save("expected_%s_loss.npy" % prefix, loss.detach().numpy())
    if go is not None:
        loss.backward(d(go).reshape(loss.shape))
        save("expected_%s_grad.npy" % prefix, xd.grad.numpy())


# 1. C order (4, 5), int64 targets, mean; gradient with a 0-d grad_output.
x = rng.randn(4, 5).astype(np.float32)
t = np.array([0, 2, 1, 4], dtype=np.int64)
go = np.array(0.5, dtype=np.float32)
save("c_x.npy", x); save("c_t.npy", t); save("go_scalar.npy", go)
ce_case("c_mean", x, t, dict(reduction="mean"), go)

# 2. Fortran order (3, 5, 2, 2) logits, Fortran int32 (3, 2, 2) targets, weight, none,
#    ignore_index 2; gradient with a Fortran (3, 2, 2) grad_output.
x = np.asfortranarray(rng.randn(3, 5, 2, 2).astype(np.float32))
t = np.asfortranarray(rng.randint(0, 5, size=(3, 2, 2)).astype(np.int32))
t[0, 0, 0] = 2
w = rng.uniform(0.5, 2.0, size=5).astype(np.float32)
go = np.asfortranarray(rng.uniform(-1, 1, size=(3, 2, 2)).astype(np.float32))
save("f_x.npy", x); save("f_t.npy", t); save("w.npy", w); save("f_go.npy", go)
ce_case("f_none", x, t, dict(reduction="none", weight=d(w), ignore_index=2), go)

# 3. Unbatched (5,) logits, 0-d int64 target, sum.
x = rng.randn(5).astype(np.float32)
t = np.array(3, dtype=np.int64)
save("u_x.npy", x); save("u_t.npy", t)
ce_case("u_sum", x, t, dict(reduction="sum"))

# 4. uint8 targets, label smoothing 0.1, ignore_index 1, mean, on the C-order (4, 5) logits.
x = np.load(os.path.join(HERE, "c_x.npy"))
t = np.array([1, 3, 1, 0], dtype=np.uint8)
save("ls_t.npy", t)
ce_case("ls_mean", x, t, dict(reduction="mean", label_smoothing=0.1, ignore_index=1),
        np.array(1.0, dtype=np.float32))

# 5. Probability targets given as float64 (converted to float32 by the tool), sum.
p = rng.uniform(0, 1, size=(4, 5))
p = (p / p.sum(1, keepdims=True)).astype(np.float32).astype(np.float64)
save("prob_t.npy", p)
ce_case("prob_sum", x, p, dict(reduction="sum"), np.array(1.0, dtype=np.float32), prob=True)

# 6. nll_loss on the (4, 5) values, weight, sum.
ce_case("nll_sum", x, np.load(os.path.join(HERE, "c_t.npy")),
        dict(reduction="sum", weight=d(w)), np.array(0.5, dtype=np.float32), fn=F.nll_loss)

# 7. softmax / log_softmax along dim 1 of the Fortran (3, 5, 2, 2) logits, with gradient.
x = np.load(os.path.join(HERE, "f_x.npy"))
g = rng.uniform(-1, 1, size=(3, 5, 2, 2)).astype(np.float32)
save("sm_go.npy", g)
for name, fn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
    xd = d(x).requires_grad_(True)
    y = fn(xd, 1)
    y.backward(d(g))
    save("expected_%s_y.npy" % name, y.detach().numpy())
    save("expected_%s_grad.npy" % name, xd.grad.numpy())

# 8. Softmax probabilities below float32's normal range: logits 87 to 103 below their row's max
#    (e^-87 ~ 1.6e-38) have subnormal gradients, as PyTorch's float32 exp gives them; one 110
#    below rounds to 0.  A sum with grad_output 1e30 scales them into the normal range, where
#    a flushed 0 is plain.  Rows (3, 6) and an NCHW (2, 6, 2, 2), the fast paths of both.
r8 = np.random.RandomState(8)
x = r8.randn(3, 6).astype(np.float32)
x[:, 1::2] -= np.array([[87.5, 95.0, 103.0], [90.0, 99.0, 110.0], [88.0, 101.0, 92.0]],
                       dtype=np.float32)
t = np.array([0, 2, 4], dtype=np.int64)
go = np.array(1e30, dtype=np.float32)
save("tiny_x.npy", x); save("tiny_t.npy", t); save("go_1e30.npy", go)
ce_case("tiny_sum", x, t, dict(reduction="sum"), go)
x = r8.randn(2, 6, 2, 2).astype(np.float32)
x[:, 1::2] -= r8.uniform(87.0, 103.0, size=(2, 3, 2, 2)).astype(np.float32)
t = r8.randint(0, 6, size=(2, 2, 2)).astype(np.int64)
save("tiny4_x.npy", x); save("tiny4_t.npy", t)
ce_case("tiny4_sum", x, t, dict(reduction="sum"), go)
