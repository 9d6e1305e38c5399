"""The neural classifier at run time: BPE, features, ONNX Runtime, and the shipped model."""
