"""Joint calibration: shared, product and disease parameters fitted to every training trial's
published endpoints at once, written to a versioned file with its provenance."""

from cartsim.calibration.fit import CalibrationSpec, FittedParameter, calibrate
from cartsim.calibration.store import CalibrationFile, load_calibration

__all__ = ["CalibrationFile", "CalibrationSpec", "FittedParameter", "calibrate",
           "load_calibration"]
