"""The validation split of the private CIFAR-10 half (for picking the lr; the official test split is
never used for that). Within each class of the archive's train/ split, every K-th image (sorted by
number) is validation, so both parts are balanced and disjoint.

    python3 apps/finetune/study/split-cifar-val.py DATA/cifar-private.tar.gz DATA [--every 10]

Writes DATA/cifar-private-fit.tar.gz (train/ = the rest) and DATA/cifar-private-val.tar.gz (test/ =
validation, read by `clipwise train --eval-data`, which takes an archive's test/ split).
"""
import argparse
import io
import os
import tarfile

p = argparse.ArgumentParser()
p.add_argument('archive')
p.add_argument('out')
p.add_argument('--every', type=int, default=10, help='every K-th image of a class is validation (K=10: 10%%)')
a = p.parse_args()
members = {}
with tarfile.open(a.archive, 'r:gz') as src:
    for m in src:
        if m.isfile() and m.name.startswith('train/') and m.name.endswith('.jpg'):
            _, cls, name = m.name.split('/')
            members.setdefault(cls, []).append((int(name.split('.')[0]), name, src.extractfile(m).read()))
fit = tarfile.open(os.path.join(a.out, 'cifar-private-fit.tar.gz'), 'w:gz')
val = tarfile.open(os.path.join(a.out, 'cifar-private-val.tar.gz'), 'w:gz')
counts = {'fit': 0, 'val': 0}
for cls, items in sorted(members.items()):
    for rank, (_, name, data) in enumerate(sorted(items)):
        is_val = rank % a.every == 0
        info = tarfile.TarInfo(f"{'test' if is_val else 'train'}/{cls}/{name}")
        info.size = len(data)
        (val if is_val else fit).addfile(info, io.BytesIO(data))
        counts['val' if is_val else 'fit'] += 1
fit.close()
val.close()
print(f"fit {counts['fit']} images, val {counts['val']} images")
