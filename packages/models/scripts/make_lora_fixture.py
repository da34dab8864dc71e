#!/usr/bin/env python3
"""LoRA adapter fixtures for @clipwise/models, in Hugging Face peft's format, made with torch +
transformers only (peft itself is not needed and not imported).

For a tiny random GPT-2 (and a tiny ViT) it writes, under OUT/lora-gpt2 (OUT/lora-vit):

  base/config.json, base/model.safetensors     the base model, by transformers' save_pretrained (float32)
  adapter/adapter_config.json                  as peft writes it: peft_type "LORA", r, lora_alpha,
                                               target_modules, fan_in_fan_out (true for GPT-2's Conv1D)
  adapter/adapter_model.safetensors            peft's tensor names and shapes:
                                                 base_model.model.<module>.lora_A.weight  [r, in]
                                                 base_model.model.<module>.lora_B.weight  [out, r]
                                               (float32, random nonzero A and B: peft's init, B = 0,
                                               would make the adapter a no-op and the test blind)
  reference.json                               input_ids (or pixel_values, labels), logits_base, logits
                                               (the model with the adapter applied), loss_per_sample,
                                               per_sample_lora_norms {peft name: [B]}

The adapted logits are computed twice in float64, independently, and must agree to 1e-10:
  1. merged weights: W + (alpha/r) * delta, delta = (B A)^T for a Conv1D (fan_in_fan_out: W is
     [in, out]) and B A for an nn.Linear (W is [out, in]), run through functional_call;
  2. LoRA as peft runs it: a forward hook adding (alpha/r) * (x A^T) B^T to each target module's output.
The per-sample norms ||d loss_i / d A||, ||d loss_i / d B|| (base frozen) come from
torch.autograd.grad one sample at a time through (1). GPT-2's loss is the mean next-token
cross-entropy of each sequence; ViT's the cross-entropy of each image.

target_modules match as in peft: a module is targeted when its name equals a target or ends with
"." + target, so GPT-2's "c_proj" takes both attn.c_proj and mlp.c_proj. Module names are the hub
names in model.safetensors (transformers 5 names ViT's modules differently in memory; they are
matched to the file by value, as in make_fixtures.py).

OUT/lora-vit-head is peft's recipe for image classification: LoRA on query, value plus
modules_to_save=["classifier"], a head trained in full for another class count (the base has 5
classes, the adapter's head 3). Its adapter_model.safetensors also holds the head as peft's
get_peft_model_state_dict writes a module to save, under the module's own name with no
"modules_to_save" part (huggingface/peft src/peft/utils/save_and_load.py, ADDITIONAL TRAINING
MODULES, and ModulesToSaveWrapper.adapter_state_dict in src/peft/utils/other.py):

  base_model.model.classifier.weight  [3, hidden]
  base_model.model.classifier.bias    [3]

Its reference.json adds num_labels (the head's) and per_sample_norms: the norms of every
trainable tensor, lora_A/B and the head's weight and bias, by peft name. The logits are again
computed twice (merged weights with the new head through functional_call; a 3-class model with the
head loaded and forward hooks) and must agree to 1e-10.

The test packages/models/src/peft/lora-fixture.test.ts reads these folders; it is skipped while they
are absent. Runs on the CPU in seconds; needs torch, transformers (4.40+ or 5.x) and safetensors.

Usage, from the repository root:
    python3 packages/models/scripts/make_lora_fixture.py             # writes packages/models/__fixtures__/lora-gpt2, lora-vit, lora-vit-head
    python3 packages/models/scripts/make_lora_fixture.py --out DIR   # writes DIR/lora-gpt2, DIR/lora-vit, DIR/lora-vit-head
    python3 packages/models/scripts/make_lora_fixture.py --only lora-vit-head   # one of them
"""

import argparse
import json
import os
import platform
import sys

import torch
import torch.nn.functional as F
from torch.func import functional_call
from safetensors.torch import load_file, save_file

import transformers
from transformers import GPT2Config, GPT2LMHeadModel, ViTConfig, ViTForImageClassification

# the tiny models, their perturbation, saving and hub names are make_fixtures.py's (same folder)
from make_fixtures import BATCH, SEQ, eager, hub_names, perturb_, save  # noqa: E402

RANK = 4
ALPHA = 8
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "__fixtures__"))


def targeted(module_hub_name, targets):
    return any(module_hub_name == t or module_hub_name.endswith("." + t) for t in targets)


def write_adapter(model, names, path, targets, fan_in_fan_out, task_type, seed, saved=None):
    """Random nonzero A [r, in] and B [out, r] for every targeted weight; writes peft's two files.
    `saved` maps the hub module names of modules_to_save to {param: tensor}, stored as
    base_model.model.<module>.<param>. Returns [(module name in memory, peft prefix)] in file order."""
    gen = torch.Generator().manual_seed(seed)
    tensors, modules = {}, []
    for module_param, hub in names.items():
        if not hub.endswith(".weight"):
            continue
        hub_module = hub[: -len(".weight")]
        if not targeted(hub_module, targets):
            continue
        w = dict(model.named_parameters())[module_param]
        if w.dim() != 2:
            sys.exit(f"target {hub_module} has a weight of shape {tuple(w.shape)}: not a linear layer")
        fan_in, fan_out = (w.shape[0], w.shape[1]) if fan_in_fan_out else (w.shape[1], w.shape[0])
        prefix = f"base_model.model.{hub_module}"
        tensors[f"{prefix}.lora_A.weight"] = (0.3 * torch.randn(RANK, fan_in, generator=gen)).float().contiguous()
        tensors[f"{prefix}.lora_B.weight"] = (0.3 * torch.randn(fan_out, RANK, generator=gen)).float().contiguous()
        modules.append((module_param[: -len(".weight")], prefix))
    if not modules:
        sys.exit(f"no module of the model matches target_modules {targets}")
    for module, params in (saved or {}).items():
        for param, value in params.items():
            tensors[f"base_model.model.{module}.{param}"] = value.float().contiguous()
    os.makedirs(path, exist_ok=True)
    save_file(tensors, os.path.join(path, "adapter_model.safetensors"), metadata={"format": "pt"})
    config = {
        "alpha_pattern": {},
        "auto_mapping": None,
        "base_model_name_or_path": "../base",
        "bias": "none",
        "fan_in_fan_out": fan_in_fan_out,
        "inference_mode": True,
        "init_lora_weights": True,
        "layers_pattern": None,
        "layers_to_transform": None,
        "lora_alpha": ALPHA,
        "lora_dropout": 0.0,
        "modules_to_save": sorted(saved) if saved else None,
        "peft_type": "LORA",
        "r": RANK,
        "rank_pattern": {},
        "revision": None,
        "target_modules": sorted(targets),
        "task_type": task_type,
        "use_dora": False,
        "use_rslora": False,
    }
    with open(os.path.join(path, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    return modules


def read_adapter(path, modules):
    """A and B back from the file (the exact float32 values), as float64, by module."""
    saved = load_file(os.path.join(path, "adapter_model.safetensors"))
    return {m: (saved[f"{p}.lora_A.weight"].double(), saved[f"{p}.lora_B.weight"].double()) for m, p in modules}


def merged_params(params, ab, fan_in_fan_out):
    """W + (alpha/r) delta for every targeted module; delta = (B A)^T when W is [in, out]."""
    scaling = ALPHA / RANK
    out = dict(params)
    for module, (a, b) in ab.items():
        delta = b @ a
        out[f"{module}.weight"] = params[f"{module}.weight"] + scaling * (delta.T if fan_in_fan_out else delta)
    return out


def hooked_logits(model, ab, run):
    """peft's forward: each target module's output plus (alpha/r) (x A^T) B^T, by forward hooks."""
    scaling = ALPHA / RANK
    handles = []
    for module, (a, b) in ab.items():
        def hook(_mod, inputs, output, a=a, b=b):
            return output + scaling * ((inputs[0] @ a.T) @ b.T)
        handles.append(model.get_submodule(module).register_forward_hook(hook))
    try:
        with torch.no_grad():
            return run(model)
    finally:
        for h in handles:
            h.remove()


def lora_norms(sample_loss, params, ab, modules, fan_in_fan_out, batch):
    """||d loss_i / d A||, ||d loss_i / d B|| one sample at a time, the base weights held fixed."""
    prefix = dict(modules)
    norms = {}
    for i in range(batch[0].shape[0]):
        leaves = {m: (a.clone().requires_grad_(True), b.clone().requires_grad_(True)) for m, (a, b) in ab.items()}
        loss = sample_loss(merged_params(params, leaves, fan_in_fan_out), *(t[i] for t in batch))
        flat = [x for pair in leaves.values() for x in pair]
        grads = torch.autograd.grad(loss, flat)
        for j, m in enumerate(leaves):
            for k, part in enumerate(("lora_A", "lora_B")):
                norms.setdefault(f"{prefix[m]}.{part}.weight", []).append(grads[2 * j + k].norm().item())
    return norms


def check_close(name, x, y, tol=1e-10):
    err = ((x - y).norm() / y.norm()).item()
    if err > tol:
        sys.exit(f"{name}: merged-weight and hooked LoRA logits differ, relative {err:.3e} > {tol}")
    return err


def versions():
    return {
        "script": "packages/models/scripts/make_lora_fixture.py",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "dtype": "float64",
    }


def finish(name, path, payload, agree):
    with open(os.path.join(path, "reference.json"), "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")
    flat = [v for vs in payload["per_sample_lora_norms"].values() for v in vs]
    print(f"{name}: {path}")
    print(f"  {len(payload['per_sample_lora_norms'])} LoRA tensors; merged vs hooked logits rel. {agree:.1e}")
    print(f"  loss_per_sample {['%.6f' % x for x in payload['loss_per_sample']]}; norms in [{min(flat):.3e}, {max(flat):.3e}]")


def make_gpt2(out):
    torch.manual_seed(0)
    config = eager(
        GPT2Config,
        vocab_size=50, n_positions=16, n_embd=16, n_layer=2, n_head=2,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=49, eos_token_id=49,
    )
    model = GPT2LMHeadModel(config).eval()
    perturb_(model, 11)
    path = os.path.join(out, "lora-gpt2")
    save(model, os.path.join(path, "base"))
    names = hub_names(model, os.path.join(path, "base"))
    targets = ["c_attn", "c_proj"]
    modules = write_adapter(model, names, os.path.join(path, "adapter"), targets, True, "CAUSAL_LM", 12)

    model = model.double()
    ab = read_adapter(os.path.join(path, "adapter"), modules)
    params = {n: p.detach() for n, p in model.named_parameters()}
    input_ids = torch.randint(0, config.vocab_size, (BATCH, SEQ), generator=torch.Generator().manual_seed(13))

    def sample_loss(p, ids):
        logits = functional_call(model, p, (ids.unsqueeze(0),), {"use_cache": False}).logits[0]
        return F.cross_entropy(logits[:-1], ids[1:])

    run = lambda m: m(input_ids=input_ids, use_cache=False).logits  # noqa: E731
    with torch.no_grad():
        base = run(model)
        logits = functional_call(model, merged_params(params, ab, True), (input_ids,), {"use_cache": False}).logits
        losses = torch.stack([F.cross_entropy(logits[i, :-1], input_ids[i, 1:]) for i in range(BATCH)])
    agree = check_close("lora-gpt2", hooked_logits(model, ab, run), logits)
    payload = {
        "model": "lora-gpt2",
        "made_with": versions(),
        "r": RANK,
        "lora_alpha": ALPHA,
        "target_modules": targets,
        "input_ids": input_ids.tolist(),
        "logits_base": base.tolist(),
        "logits": logits.tolist(),
        "loss_per_sample": losses.tolist(),
        "per_sample_lora_norms": lora_norms(sample_loss, params, ab, modules, True, (input_ids,)),
    }
    finish("lora-gpt2", path, payload, agree)


def make_vit(out):
    torch.manual_seed(0)
    config = eager(
        ViTConfig,
        image_size=8, patch_size=4, num_channels=3, hidden_size=16, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=32, num_labels=5,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    model = ViTForImageClassification(config).eval()
    perturb_(model, 21)
    path = os.path.join(out, "lora-vit")
    save(model, os.path.join(path, "base"))
    names = hub_names(model, os.path.join(path, "base"))
    targets = ["query", "value"]
    modules = write_adapter(model, names, os.path.join(path, "adapter"), targets, False, None, 22)

    model = model.double()
    ab = read_adapter(os.path.join(path, "adapter"), modules)
    params = {n: p.detach() for n, p in model.named_parameters()}
    pixel_values = torch.randn(BATCH, 3, 8, 8, generator=torch.Generator().manual_seed(23), dtype=torch.float64)
    labels = torch.tensor([1, 4, 0])

    def sample_loss(p, x, y):
        return F.cross_entropy(functional_call(model, p, (x.unsqueeze(0),)).logits, y.unsqueeze(0))

    run = lambda m: m(pixel_values=pixel_values).logits  # noqa: E731
    with torch.no_grad():
        base = run(model)
        logits = functional_call(model, merged_params(params, ab, False), (pixel_values,)).logits
        losses = F.cross_entropy(logits, labels, reduction="none")
    agree = check_close("lora-vit", hooked_logits(model, ab, run), logits)
    payload = {
        "model": "lora-vit",
        "made_with": versions(),
        "r": RANK,
        "lora_alpha": ALPHA,
        "target_modules": targets,
        "pixel_values": pixel_values.tolist(),
        "labels": labels.tolist(),
        "logits_base": base.tolist(),
        "logits": logits.tolist(),
        "loss_per_sample": losses.tolist(),
        "per_sample_lora_norms": lora_norms(sample_loss, params, ab, modules, False, (pixel_values, labels)),
    }
    finish("lora-vit", path, payload, agree)


def make_vit_head(out):
    """peft's image-classification recipe: LoRA on query, value and modules_to_save=["classifier"],
    the head re-initialised for 3 classes (the base has 5) and trained in full."""
    torch.manual_seed(0)
    fields = dict(
        image_size=8, patch_size=4, num_channels=3, hidden_size=16, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    model = ViTForImageClassification(eager(ViTConfig, num_labels=5, **fields)).eval()
    perturb_(model, 31)
    path = os.path.join(out, "lora-vit-head")
    save(model, os.path.join(path, "base"))
    names = hub_names(model, os.path.join(path, "base"))
    # the new head, "trained": random values, not transformers' init (zero bias would hide a misplaced one)
    labels_new = 3
    gen = torch.Generator().manual_seed(33)
    head = {
        "weight": (0.3 * torch.randn(labels_new, fields["hidden_size"], generator=gen)).float(),
        "bias": (0.3 * torch.randn(labels_new, generator=gen)).float(),
    }
    targets = ["query", "value"]
    adapter = os.path.join(path, "adapter")
    modules = write_adapter(model, names, adapter, targets, False, None, 32, saved={"classifier": head})

    # the 3-class model: the base's backbone, the adapter's head (exact float32 values from the file)
    saved = load_file(os.path.join(adapter, "adapter_model.safetensors"))
    head64 = {k: saved[f"base_model.model.classifier.{k}"].double() for k in ("weight", "bias")}
    model3 = ViTForImageClassification(eager(ViTConfig, num_labels=labels_new, **fields)).eval().double()
    state = {k: v.double() for k, v in model.state_dict().items() if not k.startswith("classifier.")}
    state.update({f"classifier.{k}": v for k, v in head64.items()})
    model3.load_state_dict(state)
    ab = read_adapter(adapter, modules)
    params = {n: p.detach() for n, p in model3.named_parameters()}
    pixel_values = torch.randn(BATCH, 3, 8, 8, generator=torch.Generator().manual_seed(34), dtype=torch.float64)
    labels = torch.tensor([2, 0, 1])

    def sample_loss(p, x, y):
        return F.cross_entropy(functional_call(model3, p, (x.unsqueeze(0),)).logits, y.unsqueeze(0))

    run = lambda m: m(pixel_values=pixel_values).logits  # noqa: E731
    with torch.no_grad():
        logits = functional_call(model3, merged_params(params, ab, False), (pixel_values,)).logits
        losses = F.cross_entropy(logits, labels, reduction="none")
    agree = check_close("lora-vit-head", hooked_logits(model3, ab, run), logits)

    # per-sample norms of every trainable tensor: A, B of each adapter and the head's weight and bias
    prefix = dict(modules)
    norms = {}
    for i in range(BATCH):
        leaves = {m: (a.clone().requires_grad_(True), b.clone().requires_grad_(True)) for m, (a, b) in ab.items()}
        head_leaves = {k: v.clone().requires_grad_(True) for k, v in head64.items()}
        p = merged_params(params, leaves, False)
        p.update({f"classifier.{k}": v for k, v in head_leaves.items()})
        flat = [x for pair in leaves.values() for x in pair] + list(head_leaves.values())
        grads = torch.autograd.grad(sample_loss(p, pixel_values[i], labels[i]), flat)
        for j, m in enumerate(leaves):
            for k, part in enumerate(("lora_A", "lora_B")):
                norms.setdefault(f"{prefix[m]}.{part}.weight", []).append(grads[2 * j + k].norm().item())
        for k, name in enumerate(head_leaves):
            norms.setdefault(f"base_model.model.classifier.{name}", []).append(grads[2 * len(leaves) + k].norm().item())
    payload = {
        "model": "lora-vit-head",
        "made_with": versions(),
        "r": RANK,
        "lora_alpha": ALPHA,
        "target_modules": targets,
        "modules_to_save": ["classifier"],
        "num_labels": labels_new,
        "pixel_values": pixel_values.tolist(),
        "labels": labels.tolist(),
        "logits": logits.tolist(),
        "loss_per_sample": losses.tolist(),
        "per_sample_norms": norms,
    }
    with open(os.path.join(path, "reference.json"), "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")
    flat = [v for vs in norms.values() for v in vs]
    print(f"lora-vit-head: {path}")
    print(f"  {len(norms)} trainable tensors (LoRA and the 3-class head); merged vs hooked logits rel. {agree:.1e}")
    print(f"  loss_per_sample {['%.6f' % x for x in payload['loss_per_sample']]}; norms in [{min(flat):.3e}, {max(flat):.3e}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    makers = {"lora-gpt2": make_gpt2, "lora-vit": make_vit, "lora-vit-head": make_vit_head}
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"folder for {', '.join(makers)} (default {DEFAULT_OUT})")
    parser.add_argument("--only", choices=sorted(makers), help="write this fixture alone")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, writing to {args.out}")
    for name, make in makers.items():
        if args.only in (None, name):
            make(args.out)


if __name__ == "__main__":
    main()
