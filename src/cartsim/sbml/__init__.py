"""SBML import and export (python-libsbml)."""

from cartsim.sbml.exporter import export_sbml
from cartsim.sbml.importer import SBMLModel, import_sbml

__all__ = ["SBMLModel", "export_sbml", "import_sbml"]
