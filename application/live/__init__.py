"""The live pipeline: the runtime that turns frames into predictions, and what it shares."""
