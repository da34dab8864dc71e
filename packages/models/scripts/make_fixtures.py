#!/usr/bin/env python3
"""Reference fixtures for @clipwise/models, made with PyTorch + Hugging Face transformers.

Builds a tiny GPT-2 and a tiny ViT with fixed seeds, saves each as a Hugging Face model folder
(config.json + model.safetensors, float32) and writes reference.json beside it:

  input_ids [3, 8]                      (GPT-2)   or  pixel_values [3, 3, 8, 8], labels [3]  (ViT)
  logits                                [3, 8, 50] or [3, 5]
  loss_per_sample                       [3]   GPT-2: mean next-token cross-entropy of the sequence;
                                              ViT: cross-entropy of the image
  per_sample_param_norms                {hub name: [3]}  ||d loss_i / d param||, every parameter,
                                              keyed by its name in model.safetensors (GPT-2's tied
                                              wte once, as transformer.wte.weight, its gradient
                                              summing both uses)

References are computed in float64 (model.double(), from the saved float32 weights, so exactly the
same values) with torch.func: functional_call + vmap(grad(...)) over the batch. (transformers' eager
ViT attention takes its softmax in float32 whatever the model's dtype, so the ViT numbers are exact
to about 1e-7 relative, far inside the test's 1e-3; GPT-2's are float64 throughout.) A plain loop of
torch.autograd.grad, one sample at a time, checks them (and stands in if vmap fails on this
transformers version; reference.json records which method gave the numbers).

The loader test (src/pretrained/hf-fixtures.test.ts) reads these folders; it is skipped while they
are absent. Needs torch and transformers (4.40+ or 5.x), no network, no GPU (runs on the CPU).

Usage, from the repository root:
    python3 packages/models/scripts/make_fixtures.py            # writes packages/models/__fixtures__/
    python3 packages/models/scripts/make_fixtures.py --out DIR  # writes DIR/tiny-gpt2, DIR/tiny-vit
"""

import argparse
import inspect
import json
import os
import platform
import sys

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap
from safetensors.torch import load_file

import transformers
from transformers import GPT2Config, GPT2LMHeadModel, ViTConfig, ViTForImageClassification

BATCH = 3
SEQ = 8
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "__fixtures__"))


def perturb_(model, seed):
    """transformers initialises biases to 0 and LayerNorm weights to 1; shift every parameter by
    N(0, 0.05^2) so that a loader that skipped or misplaced any tensor would change the logits."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in model.named_parameters():  # a tied parameter is listed (and shifted) once
            p.add_(0.05 * torch.randn(p.shape, generator=gen, dtype=p.dtype))


def save(model, path):
    """save_pretrained as safetensors. transformers 5 always writes safetensors and no longer takes
    `safe_serialization` (passing it raises), 4.x takes it."""
    os.makedirs(path, exist_ok=True)
    params = inspect.signature(model.save_pretrained).parameters
    kwargs = {"safe_serialization": True} if "safe_serialization" in params else {}
    model.save_pretrained(path, **kwargs)
    if not os.path.exists(os.path.join(path, "model.safetensors")):
        sys.exit(f"save_pretrained did not write {path}/model.safetensors (files: {sorted(os.listdir(path))})")


def hub_names(model, path):
    """Module parameter name -> tensor name in the saved model.safetensors. They differ in
    transformers 5, whose ViT modules are named `vit.layers.0.attention.q_proj` in memory but saved
    under the hub's `vit.encoder.layer.0.attention.attention.query`; matched here by value (every
    parameter was perturbed at random, so values are unique), which also checks nothing was
    transposed or fused on the way to the file."""
    saved = load_file(os.path.join(path, "model.safetensors"))
    mapping = {}
    for name, p in model.named_parameters():  # a tied parameter is listed once
        value = p.detach().cpu()
        found = [k for k, t in saved.items() if t.shape == value.shape and torch.equal(t.to(value.dtype), value)]
        if len(found) != 1:
            sys.exit(f"parameter {name} {tuple(value.shape)} matches {len(found)} tensors of {path}/model.safetensors: {found}")
        mapping[name] = found[0]
    unmatched = sorted(set(saved) - set(mapping.values()))
    if unmatched:
        sys.exit(f"{path}/model.safetensors holds tensors that are no parameter: {unmatched}")
    return mapping


def named_params(model):
    """Parameters by module name, detached. named_parameters() lists a tied tensor once, under its
    first name (transformer.wte.weight); functional_call re-ties it to lm_head.weight."""
    return {name: p.detach() for name, p in model.named_parameters()}


def per_sample_grads_vmap(sample_loss, params, batch):
    in_dims = (None,) + (0,) * len(batch)
    return vmap(grad(sample_loss), in_dims=in_dims)(params, *batch)


def per_sample_grads_loop(sample_loss, params, batch):
    names = list(params)
    rows = []
    for i in range(batch[0].shape[0]):
        p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        loss = sample_loss(p, *(t[i] for t in batch))
        rows.append(torch.autograd.grad(loss, [p[k] for k in names]))
    return {k: torch.stack([r[j] for r in rows]) for j, k in enumerate(names)}


def norms_of(grads):
    return {k: g.flatten(1).norm(dim=1) for k, g in grads.items()}


def reference_norms(sample_loss, params, batch):
    """Per-sample gradient norms by vmap(grad), checked against the loop; falls back to the loop."""
    loop = norms_of(per_sample_grads_loop(sample_loss, params, batch))
    try:
        vm = norms_of(per_sample_grads_vmap(sample_loss, params, batch))
    except Exception as err:  # noqa: BLE001 - any failure of vmap on this version: report it, use the loop
        print(f"  vmap(grad) failed ({type(err).__name__}: {str(err).splitlines()[0][:200]}); using the per-sample loop")
        return loop, "autograd-loop", None
    worst = max(((vm[k] - loop[k]).abs() / loop[k].clamp_min(1e-30)).max().item() for k in loop if loop[k].max() > 1e-12)
    if worst > 1e-8:
        sys.exit(f"vmap(grad) and the per-sample loop disagree: worst relative difference {worst:.3e}")
    return vm, "vmap-grad", worst


def eager(config_cls, **fields):
    """A config whose models use the eager attention (plain matmul + softmax: vmap-friendly, float64-exact)."""
    try:
        return config_cls(**fields, attn_implementation="eager")
    except TypeError:
        return config_cls(**fields)


def write_reference(path, payload):
    with open(os.path.join(path, "reference.json"), "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")


def summary(name, path, payload, method, worst):
    norms = payload["per_sample_param_norms"]
    flat = [v for vs in norms.values() for v in vs]
    print(f"{name}: {path}")
    print(f"  files: {', '.join(sorted(os.listdir(path)))}")
    print(f"  {len(norms)} parameters; loss_per_sample {['%.6f' % x for x in payload['loss_per_sample']]}")
    print(f"  per-sample norms in [{min(flat):.3e}, {max(flat):.3e}] by {method}" + (f" (max rel. diff. to loop {worst:.1e})" if worst is not None else ""))


def make_gpt2(out):
    torch.manual_seed(0)
    config = eager(
        GPT2Config,
        vocab_size=50, n_positions=16, n_embd=16, n_layer=2, n_head=2,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=49, eos_token_id=49,
    )
    model = GPT2LMHeadModel(config).eval()
    perturb_(model, 1)
    path = os.path.join(out, "tiny-gpt2")
    save(model, path)
    names = hub_names(model, path)

    model = model.double()
    gen = torch.Generator().manual_seed(2)
    input_ids = torch.randint(0, config.vocab_size, (BATCH, SEQ), generator=gen)
    params = named_params(model)
    assert names.get("transformer.wte.weight") == "transformer.wte.weight" and "lm_head.weight" not in params, names

    def sample_loss(p, ids):  # ids [T]: mean next-token cross-entropy of one sequence
        logits = functional_call(model, p, (ids.unsqueeze(0),), {"use_cache": False}).logits[0]
        return F.cross_entropy(logits[:-1], ids[1:])

    with torch.no_grad():
        logits = model(input_ids=input_ids, use_cache=False).logits
        losses = torch.stack([F.cross_entropy(logits[i, :-1], input_ids[i, 1:]) for i in range(BATCH)])
    norms, method, worst = reference_norms(sample_loss, params, (input_ids,))
    payload = {
        "model": "tiny-gpt2",
        "made_with": versions(method),
        "input_ids": input_ids.tolist(),
        "logits": logits.tolist(),
        "loss_per_sample": losses.tolist(),
        "per_sample_param_norms": {names[k]: v.tolist() for k, v in norms.items()},
    }
    write_reference(path, payload)
    summary("tiny-gpt2", path, payload, method, worst)


def make_vit(out):
    torch.manual_seed(0)
    config = eager(
        ViTConfig,
        image_size=8, patch_size=4, num_channels=3, hidden_size=16, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=32, num_labels=5,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    model = ViTForImageClassification(config).eval()
    perturb_(model, 3)
    path = os.path.join(out, "tiny-vit")
    save(model, path)
    names = hub_names(model, path)

    model = model.double()
    gen = torch.Generator().manual_seed(4)
    pixel_values = torch.randn(BATCH, 3, 8, 8, generator=gen, dtype=torch.float64)
    labels = torch.tensor([0, 3, 4])
    params = named_params(model)

    def sample_loss(p, x, y):  # x [C, H, W], y []: cross-entropy of one image
        logits = functional_call(model, p, (x.unsqueeze(0),)).logits
        return F.cross_entropy(logits, y.unsqueeze(0))

    with torch.no_grad():
        logits = model(pixel_values=pixel_values).logits
        losses = F.cross_entropy(logits, labels, reduction="none")
    norms, method, worst = reference_norms(sample_loss, params, (pixel_values, labels))
    payload = {
        "model": "tiny-vit",
        "made_with": versions(method),
        "pixel_values": pixel_values.tolist(),
        "labels": labels.tolist(),
        "logits": logits.tolist(),
        "loss_per_sample": losses.tolist(),
        "per_sample_param_norms": {names[k]: v.tolist() for k, v in norms.items()},
    }
    write_reference(path, payload)
    summary("tiny-vit", path, payload, method, worst)


def versions(method):
    return {
        "script": "packages/models/scripts/make_fixtures.py",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "dtype": "float64",
        "per_sample_grads": method,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"folder for tiny-gpt2/ and tiny-vit/ (default {DEFAULT_OUT})")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, writing to {args.out}")
    make_gpt2(args.out)
    make_vit(args.out)


if __name__ == "__main__":
    main()
