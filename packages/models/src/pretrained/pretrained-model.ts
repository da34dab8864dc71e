import { Gpt2Model } from '../gpt2/gpt2-model.js';
import { VitModel } from '../vit/vit-model.js';

/** The model families `loadPretrained`, `savePretrained` and `perSampleNorms` know. */
export type PretrainedModel = Gpt2Model | VitModel;

/** The Hugging Face `model_type` of a model: 'gpt2' or 'vit'. */
export function modelTypeOf(model: PretrainedModel): 'gpt2' | 'vit' {
  if (model instanceof Gpt2Model) return 'gpt2';
  if (model instanceof VitModel) return 'vit';
  throw new TypeError(`expected a Gpt2Model or VitModel, got ${(model as object)?.constructor?.name ?? typeof model}`);
}
