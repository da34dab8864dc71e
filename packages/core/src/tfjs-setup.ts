// TF.js set-up every Clipwise package relies on: gradient functions (tfjs-core alone registers
// none) and the chained tensor methods (x.reshape(...)), as the @tensorflow/tfjs umbrella does.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
