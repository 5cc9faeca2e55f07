"""A small NumPy multilayer perceptron with Adam, the trainable part of every default model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Mlp:
    """Dense layers `x @ W + b`, ReLU between them, linear output."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    @classmethod
    def create(cls, sizes: list[int], rng: np.random.Generator) -> Mlp:
        """He-initialised layers for sizes [in, hidden..., out]."""
        weights = [
            (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32)
            for a, b in zip(sizes[:-1], sizes[1:])
        ]
        return cls(weights, [np.zeros(b, np.float32) for b in sizes[1:]])

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Return the logits and the activations needed by backward."""
        activations = [x]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w + b
            if i < len(self.weights) - 1:
                x = np.maximum(x, 0.0)
            activations.append(x)
        return x, activations

    def backward(
        self, activations: list[np.ndarray], grad: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return gradients of weights and biases given d(loss)/d(logits)."""
        grad_w: list[np.ndarray] = []
        grad_b: list[np.ndarray] = []
        for i in range(len(self.weights) - 1, -1, -1):
            grad_w.insert(0, activations[i].T @ grad)
            grad_b.insert(0, grad.sum(axis=0))
            if i:
                grad = (grad @ self.weights[i].T) * (activations[i] > 0)
        return grad_w, grad_b

    def params(self) -> list[np.ndarray]:
        """Return every parameter array, weights first."""
        return [*self.weights, *self.biases]

    def copy(self) -> Mlp:
        """Return a deep copy."""
        return Mlp([w.copy() for w in self.weights], [b.copy() for b in self.biases])


@dataclass
class Adam:
    """Adam with decoupled weight decay on the weight matrices."""

    lr: float = 1e-3
    weight_decay: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    steps: int = 0
    moments: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def step(self, mlp: Mlp, grad_w: list[np.ndarray], grad_b: list[np.ndarray]) -> None:
        """Update the MLP in place."""
        params, grads = mlp.params(), [*grad_w, *grad_b]
        if not self.moments:
            self.moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
        self.steps += 1
        c1, c2 = 1 - self.beta1**self.steps, 1 - self.beta2**self.steps
        for i, (p, g, (m, v)) in enumerate(zip(params, grads, self.moments)):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            if i < len(mlp.weights):
                p *= 1 - self.lr * self.weight_decay
            p -= (self.lr * (m / c1) / (np.sqrt(v / c2) + 1e-8)).astype(np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Element-wise logistic function."""
    return 1.0 / (1.0 + np.exp(-logits))


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean loss and its gradient for integer targets."""
    probs = softmax(logits)
    rows = np.arange(len(targets))
    loss = float(-np.log(probs[rows, targets] + 1e-9).mean())
    probs[rows, targets] -= 1.0
    return loss, (probs / len(targets)).astype(np.float32)


def sigmoid_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy and its gradient for multi-hot targets."""
    probs = sigmoid(logits)
    eps = 1e-7
    loss = -(targets * np.log(probs + eps) + (1 - targets) * np.log(1 - probs + eps))
    return float(loss.mean()), ((probs - targets) / targets.size).astype(np.float32)


def fold_standardisation(mlp: Mlp, mean: np.ndarray, std: np.ndarray) -> Mlp:
    """Return an MLP taking raw features, with (x - mean) / std folded into its first layer."""
    folded = mlp.copy()
    folded.weights[0] = (mlp.weights[0] / std[:, None]).astype(np.float32)
    folded.biases[0] = (mlp.biases[0] - (mean / std) @ mlp.weights[0]).astype(np.float32)
    return folded
