// TF.js set-up every Clipwise package relies on: gradient functions (tfjs-core alone registers
// none) and the chained tensor methods (x.reshape(...)). tfjs-core's own registration modules are
// extension-less ESM that Node cannot load, so we take them from the @tensorflow/tfjs umbrella,
// whose Node build inlines them (its layers/converter code is only loaded, never used).
import '@tensorflow/tfjs';
// our Sum/Mean gradients replace TF.js's (device-side broadcast, no CPU ones array)
import './reduction-grads';
