"""Solver kernel templates: text assembled into generated modules, never imported.

The files reach the model only through the record ``m`` every function takes first: its sizes
(``n_states(m)``, ...), tables (``nonnegative(m, i)``, ...) and functions (``model_rhs(m, t,
y, p, out)``, ...). A specialised module defines these as the model's constants and generated
code, the generic module as reads from a run-time record; see :mod:`cartsim.codegen.assemble`.
"""
