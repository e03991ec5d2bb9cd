"""Counter-based random streams keyed by (seed, patient, purpose), usable in compiled kernels."""

from cartsim.rng.philox import normal_draws, purpose_id, uniform_draws

__all__ = ["normal_draws", "purpose_id", "uniform_draws"]
