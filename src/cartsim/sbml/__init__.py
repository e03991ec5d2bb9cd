"""SBML import and export (python-libsbml)."""

from cartsim.sbml.importer import SBMLModel, import_sbml

__all__ = ["SBMLModel", "import_sbml"]
