"""Virtual trials above the journey: chunks of patients run on a backend (in-process, GPU,
Dask) into a Parquet store that a killed run resumes, with endpoints computed from the store.

>>> from cartsim.trial import run_trial
>>> trial = run_trial("zuma1-axi-cel-lbcl", 1000, seed=1, out="runs/zuma1")
>>> trial.summary["arms"]["A"]["endpoints"]["orr"]["pct"]
"""

from cartsim.trial.execution import TrialRun, run_trial

__all__ = ["TrialRun", "run_trial"]
