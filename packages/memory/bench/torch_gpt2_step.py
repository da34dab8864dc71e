# PyTorch reference for the same step shape: GPT-2 small (random init), fp32 (TF32 off), B x T tokens,
# one forward+backward+AdamW step, median of repeated steps after warm-up, and peak CUDA memory above
# the weights and optimizer state. Run on the GPU machine: python3 bench/torch_gpt2_step.py --batch 16 --seq 128
import argparse, time, torch
from transformers import GPT2Config, GPT2LMHeadModel

p = argparse.ArgumentParser()
p.add_argument('--batch', type=int, default=16)
p.add_argument('--seq', type=int, default=128)
p.add_argument('--reps', type=int, default=10)
a = p.parse_args()
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.manual_seed(0)
model = GPT2LMHeadModel(GPT2Config(resid_pdrop=0, embd_pdrop=0, attn_pdrop=0)).cuda()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
ids = torch.randint(0, 50257, (a.batch, a.seq), device='cuda')

def step():
    out = model(ids, labels=ids)
    out.loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)

for _ in range(3):
    step()
torch.cuda.synchronize()
base = torch.cuda.memory_allocated()
torch.cuda.reset_peak_memory_stats()
times = []
for _ in range(a.reps):
    t0 = time.perf_counter(); step(); torch.cuda.synchronize(); times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(f'| PyTorch {torch.__version__} fp32, GPT-2 small, B={a.batch}, T={a.seq} | peak above weights+state {(torch.cuda.max_memory_allocated() - base) / 2**20:.0f} MiB | step {times[len(times)//2]:.1f} ms (median of {a.reps}) |')
