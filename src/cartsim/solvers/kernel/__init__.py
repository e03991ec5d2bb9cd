"""Solver kernel templates: text assembled into each model's generated module, never imported.

The files reference the generated model functions (``model_rhs``, ``model_jac``, ...) as globals;
see :mod:`cartsim.codegen.assemble`.
"""
