"""Figures and reports built from simulation results."""
