"""Which switches of an interleaved A/B (`clipwise bench --ab SWITCH --json F`) win, as env settings.

A switch wins a configuration when the median of its per-round differences (on - off, both sides
timed in the same round) is negative, larger than the rounds' spread (the median absolute deviation
of those differences), and the on side was faster in at least two thirds of the rounds. It is
adopted when it wins every private configuration of its `target` file (the non-private row is left
out: some switches, e.g. the ghost-norm tiles, do not touch it) and loses no configuration anywhere (no
median difference above +1 ms). Prints `export NAME=on` or `export NAME=off` per switch (for `source`;
the three switches below are on by default since the A/Bs of the fifth 2026-12-06 session, so `off` is
the verdict that changes something; none where the target A/B did not run) and a comment line per
configuration, so the log says why.

    python3 ab_decide.py ENV_NAME=TARGET.json[,OTHER.json] ...
e.g.
    python3 ab_decide.py CLIPWISE_GHOST_FITTED_TILES=/tmp/r/vit-ab-ghost.json \
        CLIPWISE_MATMUL_NARROW=/tmp/r/vit-ab-narrow.json,/tmp/r/gpt2-ab-narrow.json
"""
import json
import statistics
import sys


def pairs(path):
    rows = json.load(open(path))
    for on in rows:
        name = on['grouping']
        if ' +' not in name:
            continue
        base = name.rsplit(' +', 1)[0]
        off = next((r for r in rows if r['grouping'] == base and r['trainable'] == on['trainable']), None)
        if off is None:
            continue
        n = min(len(on['stepMsAll']), len(off['stepMsAll']))
        diffs = [on['stepMsAll'][i] - off['stepMsAll'][i] for i in range(n)]
        if not diffs:
            continue
        med = statistics.median(diffs)
        mad = statistics.median(abs(d - med) for d in diffs)
        faster = sum(d < 0 for d in diffs)
        yield base, med, mad, faster, n


def main(args):
    for arg in args:
        env, files = arg.split('=', 1)
        files = files.split(',')
        adopted = True
        missing = False
        for k, path in enumerate(files):
            try:
                ps = list(pairs(path))
            except (OSError, ValueError, KeyError) as e:
                print(f'# {env}: {path} unreadable ({e})')
                missing = missing or k == 0
                continue
            if not ps and k == 0:
                missing = True
            for base, med, mad, faster, n in ps:
                win = med < 0 and -med > mad and faster * 3 >= 2 * n
                lose = med > 1.0
                print(f'# {env} {path.rsplit("/", 1)[-1]} {base}: on - off median {med:+.1f} ms, spread {mad:.1f}, on faster {faster} of {n}: {"wins" if win else "loses" if lose else "no win"}')
                if (k == 0 and not win and base != 'non-private') or lose:
                    adopted = False
        if missing:
            print(f'# {env}: no verdict without its A/B: the default stays')
        else:
            print(f'export {env}=on' if adopted else f'export {env}=off')


if __name__ == '__main__':
    main(sys.argv[1:])
