# The bench's PyTorch reference: the same ReLU MLP (784-hidden...-10, default hidden 128) or, with model=cnn, the cnn
# case's network; plain SGD, batch and learning rate
# as spark-sam's, on the CPU with a given number of threads. Prints one JSON object on stdout.
import gzip, json, struct, sys, time
import numpy as np
import torch

def idx(path):
    op = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with op(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = [struct.unpack(">I", f.read(4))[0] for _ in range(magic & 0xff)]
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)

def main():
    a = json.loads(sys.argv[1])
    torch.set_num_threads(a["threads"])
    torch.manual_seed(a["seed"])
    d = a["dir"]
    def files(prefix):
        import os
        for ext in (".gz", ""):
            if os.path.exists(f"{d}/{prefix}-images-idx3-ubyte{ext}"):
                return f"{d}/{prefix}-images-idx3-ubyte{ext}", f"{d}/{prefix}-labels-idx1-ubyte{ext}"
        raise SystemExit(f"no {prefix} files in {d}")
    ti, tl = files("train")
    vi, vl = files("t10k")
    lim = a["limit"] or None
    x = torch.tensor(idx(ti)[:lim].reshape(-1, 784), dtype=torch.float32) / 255.0
    y = torch.tensor(idx(tl)[:lim], dtype=torch.long)
    tx = torch.tensor(idx(vi).reshape(-1, 784), dtype=torch.float32) / 255.0
    ty = torch.tensor(idx(vl), dtype=torch.long)
    if a.get("model") == "cnn":
        # spark-sam's default cnn layers: conv 16 5x5 pad 2, maxpool 2, conv 32 5x5 pad 2, maxpool 2, dense 128
        x, tx = x.reshape(-1, 1, 28, 28), tx.reshape(-1, 1, 28, 28)
        nn = torch.nn
        model = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        hidden = a["hidden"] if isinstance(a["hidden"], list) else [a["hidden"]]
        layers, width = [], 784
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))
    opt = torch.optim.SGD(model.parameters(), lr=a["lr"])
    lossf = torch.nn.CrossEntropyLoss()
    n, b = x.shape[0], a["batch"]
    secs, accs = [], []
    for _ in range(a["epochs"]):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for s in range(0, n, b):
            idxs = perm[s:s + b]
            opt.zero_grad()
            loss = lossf(model(x[idxs]), y[idxs])
            loss.backward()
            opt.step()
        secs.append(time.perf_counter() - t0)
        with torch.no_grad():
            accs.append(float((model(tx).argmax(1) == ty).float().mean()))
    print(json.dumps({"epochSeconds": secs, "testAccuracy": accs, "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))

main()
