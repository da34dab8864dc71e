# The reference side of `clipwise bench` on the GPU machine: one AdamW training step of GPT-2 small
# (B x T tokens) or ViT-B/16 (B images, 224 px, 10 classes) in fp32 with TF32 off, timed as the median
# of repeated steps after warm-up, with CUDA's peak memory (weights, gradients and AdamW state
# included, as `clipwise bench` counts them). Modes:
#   torch              non-private PyTorch
#   fastdp-all-layer   fastDP (awslabs/fast-differential-privacy) Book-Keeping, MixOpt, all-layer clipping
#   fastdp-layer-wise  the same, layer-wise
#   opacus             Opacus GradSampleModule hooks + DPOptimizer (flat clipping)
# fastDP and Opacus are not installed on the GPU machine: put their sources on PYTHONPATH (not
# committed). One mode per process (clean peak statistics); prints one JSON line.
#   PYTHONPATH=/tmp/fastdp:/tmp/opacus python3 packages/memory/bench/reference_step.py --model gpt2 --mode fastdp-all-layer
# With --budget-mib N it times nothing and finds the largest batch whose step's CUDA allocated peak
# (weights, gradients and AdamW state included) stays within N MiB, by measured steps (doubling, then
# bisection; an out-of-memory error counts as over): the reference side of `clipwise bench --budget-mib`.
#   ... reference_step.py --model gpt2 --seq 1024 --mode fastdp-layer-wise --budget-mib 24000
#
# GPT-2 here is a plain-torch GPT-2 small (nn.Linear/LayerNorm/Embedding, explicit masked softmax
# attention, tanh GELU), with an untied LM head by default: fastDP's patch of Hugging Face's GPT-2
# calls `get_head_mask`, which transformers 5 removed, and with a tied head fastDP keeps only one use's
# per-sample norm of the shared weight. `--tied` ties it (Clipwise's model is tied; torch mode only).
# ViT under fastDP is not quite a full step: its PrivacyEngine does not support timm's LayerNorms,
# cls_token and pos_embed, and leaves those 52 tensors (190,464 parameters) untrained, as it prints
# ("not supported by privacy engine; these parameters are not requiring gradient nor updated").
# Clipwise, PyTorch and Opacus train all of them, so fastDP's ViT step does a little less work.
import argparse, json, math, time, sys, traceback
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--model', choices=['gpt2', 'vit'], default='gpt2')
p.add_argument('--mode', choices=['torch', 'fastdp-all-layer', 'fastdp-layer-wise', 'opacus'], default='torch')
p.add_argument('--batch', type=int)
p.add_argument('--seq', type=int, default=128)
p.add_argument('--reps', type=int, default=10)
p.add_argument('--tied', action='store_true')
p.add_argument('--budget-mib', type=float, help='find the largest batch within this allocated peak instead of timing')
a = p.parse_args()
batch = a.batch or (16 if a.model == 'gpt2' else 32)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.manual_seed(0)
dev = 'cuda'


class Block(nn.Module):
    def __init__(self, d, h, t):
        super().__init__()
        self.h = h
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)
        self.register_buffer('mask', torch.tril(torch.ones(t, t, dtype=torch.bool)))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.h, c // self.h).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // self.h))
        att = att.masked_fill(~self.mask[:t, :t], float('-inf')).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))


class Gpt2(nn.Module):
    def __init__(self, vocab=50257, d=768, layers=12, heads=12, t=128, tied=False):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(1024, d)
        self.h = nn.ModuleList(Block(d, heads, t) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        if tied:
            self.lm_head.weight = self.wte.weight

    def forward(self, ids):
        b, t = ids.shape
        pos = torch.arange(t, device=ids.device).unsqueeze(0).expand(b, t)
        x = self.wte(ids) + self.wpe(pos)
        for blk in self.h:
            x = blk(x)
        return self.lm_head(self.ln_f(x))


if a.model == 'gpt2':
    model = Gpt2(t=a.seq, tied=a.tied).to(dev)

    def inputs(b):
        return (torch.randint(0, 50257, (b, a.seq), device=dev),)

    def per_sample_loss(ids):
        logits = model(ids)[:, :-1]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction='none').view(ids.shape[0], -1).mean(1)
else:
    import timm
    model = timm.create_model('vit_base_patch16_224', pretrained=False, num_classes=10).to(dev)

    def inputs(b):
        return torch.randn(b, 3, 224, 224, device=dev), torch.randint(0, 10, (b,), device=dev)

    def per_sample_loss(x, y):
        return F.cross_entropy(model(x), y, reduction='none')



def peak_at(step, b):
    """The allocated peak (MiB) of a steady-state step at batch b, or None when it runs out of memory."""
    try:
        data = inputs(b)
        step(data)  # the first step allocates AdamW's state
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        step(data)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() / 2**20
    except torch.OutOfMemoryError:
        return None
    finally:
        data = None
        torch.cuda.empty_cache()


def largest_batch(step, budget):
    """Doubling then bisection on measured steps: the largest b whose peak fits `budget` MiB."""
    peaks = {}
    fits = lambda b: peaks.setdefault(b, peak_at(step, b)) is not None and peaks[b] <= budget
    if not fits(1):
        return {'maxBatch': 0, 'peaks': peaks}
    lo, hi = 1, 2
    while fits(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return {'maxBatch': lo, 'peakAllocatedMiB': peaks[lo], 'peaks': {str(k): v for k, v in sorted(peaks.items())}}


opt = torch.optim.AdamW(model.parameters(), lr=1e-9)
result = {'model': a.model, 'mode': a.mode, 'batch': batch, 'seq': a.seq if a.model == 'gpt2' else 197, 'tied': a.tied,
          'params': sum(p.numel() for p in model.parameters()), 'torch': torch.__version__}
try:
    if a.mode.startswith('fastdp'):
        from fastDP import PrivacyEngine
        engine = PrivacyEngine(model, batch_size=batch, sample_size=50000, epochs=1, noise_multiplier=1.0, clipping_fn='Abadi',
                               clipping_mode='MixOpt', clipping_style=a.mode[len('fastdp-'):], max_grad_norm=1.0, torch_seed_is_fixed=True)
        engine.attach(opt)

        def step(data):
            per_sample_loss(*data).mean().backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
    elif a.mode == 'opacus':
        from opacus import GradSampleModule
        from opacus.optimizers import DPOptimizer
        model = GradSampleModule(model)
        opt = DPOptimizer(torch.optim.AdamW(model.parameters(), lr=1e-9), noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=batch)

        def step(data):
            per_sample_loss(*data).mean().backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
    else:
        def step(data):
            per_sample_loss(*data).mean().backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

    if a.budget_mib:
        result.update(budgetMiB=a.budget_mib, **largest_batch(step, a.budget_mib))
    else:
        data = inputs(batch)
        for _ in range(3):
            step(data)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            step(data)
            torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        result.update(stepMs=times[len(times) // 2], stepMsAll=times, peakAllocatedMiB=torch.cuda.max_memory_allocated() / 2**20,
                      peakReservedMiB=torch.cuda.max_memory_reserved() / 2**20)
except Exception as e:  # a reference that cannot run is reported, not hidden
    result.update(error=f'{type(e).__name__}: {e}'.splitlines()[0][:300])
    traceback.print_exc(file=sys.stderr)
print(json.dumps(result))
