"""The model outside Keras: LiteRT (float32 and int8), SavedModel and ONNX files, checked against Keras."""
