"""Media adapters: the filesystem blob store and the OpenCV image codec."""
