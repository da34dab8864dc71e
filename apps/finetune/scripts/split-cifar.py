"""Split the CIFAR-10 JPEG archive into a public half (non-private pre-training) and a private half
(private fine-tuning), for the app's ViT results. Within each class of the official train split,
images with an even number are public and odd ones private, so the halves are disjoint and balanced.

    python3 apps/finetune/scripts/split-cifar.py ../shared/data/cifar10-jpeg.tar.gz OUT_DIR [--private-limit N] [--test-limit N]

Writes OUT_DIR/cifar-public.tar.gz (train/ = the public half, test/ = the test subset) and
OUT_DIR/cifar-private.tar.gz (train/ = the private half, or its first N a class, test/ = the test subset).

With --private-classes (a transfer task: the private classes are ones the pre-trained model never saw),
the split is by class instead: every train image of a listed class is private, every other class's is
public, and each archive's test/ holds only its own classes' test images.

    python3 apps/finetune/scripts/split-cifar.py ARCHIVE OUT_DIR --transfer   # the study's classes (below)
    python3 apps/finetune/scripts/split-cifar.py ARCHIVE OUT_DIR --private-classes dog,frog,horse,ship,truck
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
# the group-wise study's and the PEFT comparison's transfer task: airplane to deer public, these private
TRANSFER_PRIVATE = 'dog,frog,horse,ship,truck'
p.add_argument('--private-classes', default='', help='comma-separated class names: split by class, these private, the rest public')
p.add_argument('--transfer', action='store_true', help=f'split by class with --private-classes {TRANSFER_PRIVATE} unless given')
a = p.parse_args()
private_classes = set(filter(None, (a.private_classes or (TRANSFER_PRIVATE if a.transfer else '')).split(',')))
os.makedirs(a.out, exist_ok=True)
pub = tarfile.open(os.path.join(a.out, 'cifar-public.tar.gz'), 'w:gz')
prv = tarfile.open(os.path.join(a.out, 'cifar-private.tar.gz'), 'w:gz')
counts = {}
seen = set()
with tarfile.open(a.archive, 'r:gz') as src:
    for m in src:
        if not m.isfile() or not m.name.endswith('.jpg'):
            continue
        split, cls, name = m.name.split('/')[-3:]
        idx = int(name.split('.')[0])
        data = src.extractfile(m).read()
        seen.add(cls)
        by_class = 'private' if cls in private_classes else 'public'
        if split == 'test':
            targets = ([prv] if by_class == 'private' else [pub]) if private_classes else [pub, prv]
            key = ('test', cls)
            limit = a.test_limit
        else:
            half = by_class if private_classes else ('public' if idx % 2 == 0 else 'private')
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
unknown = private_classes - seen
def fail(message):
    for name in ('cifar-public.tar.gz', 'cifar-private.tar.gz'):
        os.remove(os.path.join(a.out, name))
    raise SystemExit(message)
if unknown:
    fail(f"--private-classes: no class named {', '.join(sorted(unknown))} in {a.archive} (classes: {', '.join(sorted(seen))})")
if private_classes and private_classes >= seen:
    fail('--private-classes names every class: nothing is left to pre-train on')
for k in ('public', 'private', 'test'):
    print(k, sum(v for (s, _), v in counts.items() if s == k), 'images')
