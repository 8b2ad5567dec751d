// Quantization.
