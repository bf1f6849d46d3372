"""The live half: face detection, following and smoothing, the stateless recognizer, drawing,
frame sources, the broadcast stream, the web app and its gallery."""
