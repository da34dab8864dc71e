"""Split the CIFAR-10 JPEG archive into a public half (non-private pre-training) and a private half
(private fine-tuning), for the app's ViT results. Within each class of the official train split,
images with an even number are public and odd ones private, so the halves are disjoint and balanced.

    python3 apps/finetune/scripts/split-cifar.py ../shared/data/cifar10-jpeg.tar.gz OUT_DIR [--private-limit N] [--test-limit N]

Writes OUT_DIR/cifar-public.tar.gz (train/ = the public half, test/ = the test subset) and
OUT_DIR/cifar-private.tar.gz (train/ = the private half, or its first N a class, test/ = the test subset).
"""
import argparse
import io
import os
import tarfile

p = argparse.ArgumentParser()
p.add_argument('archive')
p.add_argument('out')
p.add_argument('--private-limit', type=int, default=0, help='images a class of the private half (0 = all 2,500)')
p.add_argument('--public-limit', type=int, default=0, help='images a class of the public half (0 = all 2,500)')
p.add_argument('--test-limit', type=int, default=200, help='test images a class (0 = all 1,000)')
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
pub = tarfile.open(os.path.join(a.out, 'cifar-public.tar.gz'), 'w:gz')
prv = tarfile.open(os.path.join(a.out, 'cifar-private.tar.gz'), 'w:gz')
counts = {}
with tarfile.open(a.archive, 'r:gz') as src:
    for m in src:
        if not m.isfile() or not m.name.endswith('.jpg'):
            continue
        split, cls, name = m.name.split('/')[-3:]
        idx = int(name.split('.')[0])
        data = src.extractfile(m).read()
        if split == 'test':
            targets = [pub, prv]
            key = ('test', cls)
            limit = a.test_limit
        else:
            half = 'public' if idx % 2 == 0 else 'private'
            targets = [pub if half == 'public' else prv]
            key = (half, cls)
            limit = a.public_limit if half == 'public' else a.private_limit
        if limit and counts.get(key, 0) >= limit:
            continue
        counts[key] = counts.get(key, 0) + 1
        for t in targets:
            info = tarfile.TarInfo(f'{split}/{cls}/{name}')
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
pub.close()
prv.close()
for k in ('public', 'private', 'test'):
    print(k, sum(v for (s, _), v in counts.items() if s == k), 'images')
